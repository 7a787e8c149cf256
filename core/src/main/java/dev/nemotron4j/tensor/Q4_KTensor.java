package dev.nemotron4j.tensor;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShuffle;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;

import static dev.nemotron4j.tensor.Simd.B;
import static dev.nemotron4j.tensor.Simd.B_PARTS;
import static dev.nemotron4j.tensor.Simd.F;
import static dev.nemotron4j.tensor.Simd.L;

/**
 * ggml Q4_K: super-blocks of 256 values in 144 bytes: f16 d, f16 dmin, 12 bytes of eight packed 6-bit (scale, min)
 * pairs ({@link #scale}/{@link #min}), 128 bytes qs. The 256 values are 4 groups of 64; group g uses qs[32g…32g+31],
 * its first 32 values are the low nibbles (sub-block 2g), the next 32 the high nibbles (sub-block 2g+1).
 * A value of sub-block s is {@code d·scale(s) · q − dmin·min(s)}.
 */
public final class Q4_KTensor extends WeightTensor {
    private static final int QK = 256;
    private static final int BLOCK_BYTES = 144;

    public Q4_KTensor(MemorySegment data, int rows, int cols) {
        super(data, rows, cols);
    }

    @Override
    public GGMLType type() {
        return GGMLType.Q4_K;
    }

    /** ggml's get_scale_min_k4 (scale half): sub-blocks 0-3 use 6 bits of byte s, 4-7 a nibble plus 2 spare bits. */
    static int scale(MemorySegment data, long scales, int s) {
        if (s < 4) {
            return data.get(ValueLayout.JAVA_BYTE, scales + s) & 63;
        }
        return (data.get(ValueLayout.JAVA_BYTE, scales + s + 4) & 0x0f)
                | ((data.get(ValueLayout.JAVA_BYTE, scales + s - 4) & 0xff) >>> 6) << 4;
    }

    /** ggml's get_scale_min_k4 (min half). */
    static int min(MemorySegment data, long scales, int s) {
        if (s < 4) {
            return data.get(ValueLayout.JAVA_BYTE, scales + s + 4) & 63;
        }
        return (data.get(ValueLayout.JAVA_BYTE, scales + s + 4) & 0xff) >>> 4
                | ((data.get(ValueLayout.JAVA_BYTE, scales + s) & 0xff) >>> 6) << 4;
    }

    @Override
    public float dot(int row, float[] x, int xOffset) {
        long base = rowOffset(row);
        int blocks = cols / QK;
        FloatVector acc = FloatVector.zero(F);
        for (int b = 0; b < blocks; b++) {
            long block = base + (long) b * BLOCK_BYTES;
            float d = Simd.f16(data, block);
            float dmin = Simd.f16(data, block + 2);
            long scales = block + 4;
            for (int g = 0; g < 4; g++) {
                int xg = xOffset + b * QK + 64 * g;
                // Σ (d1·q − m1)·x = d1·Σ q·x − m1·Σ x, per 32-value sub-block
                FloatVector qxLo = FloatVector.zero(F);
                FloatVector qxHi = FloatVector.zero(F);
                FloatVector xsLo = FloatVector.zero(F);
                FloatVector xsHi = FloatVector.zero(F);
                for (int j = 0; j < 32; j += B.length()) {
                    ByteVector qs = Simd.bytes(data, block + 16 + 32 * g + j);
                    ByteVector lo = qs.and((byte) 0x0f);
                    ByteVector hi = qs.lanewise(VectorOperators.LSHR, 4);
                    for (int p = 0; p < B_PARTS; p++) {
                        int xj = xg + j + p * L;
                        FloatVector x0 = FloatVector.fromArray(F, x, xj);
                        FloatVector x1 = FloatVector.fromArray(F, x, xj + 32);
                        qxLo = ((FloatVector) lo.convertShape(VectorOperators.B2F, F, p)).fma(x0, qxLo);
                        qxHi = ((FloatVector) hi.convertShape(VectorOperators.B2F, F, p)).fma(x1, qxHi);
                        xsLo = xsLo.add(x0);
                        xsHi = xsHi.add(x1);
                    }
                }
                acc = qxLo.fma(FloatVector.broadcast(F, d * scale(data, scales, 2 * g)), acc);
                acc = qxHi.fma(FloatVector.broadcast(F, d * scale(data, scales, 2 * g + 1)), acc);
                acc = xsLo.fma(FloatVector.broadcast(F, -dmin * min(data, scales, 2 * g)), acc);
                acc = xsHi.fma(FloatVector.broadcast(F, -dmin * min(data, scales, 2 * g + 1)), acc);
            }
        }
        for (VectorShuffle<Float> halving : VectorMath.HALVINGS) {
            acc = acc.add(acc.rearrange(halving));
        }
        return acc.lane(0);
    }

    @Override
    public float dotScalar(int row, float[] x, int xOffset) {
        long base = rowOffset(row);
        float sum = 0f;
        for (int b = 0; b < cols / QK; b++) {
            long block = base + (long) b * BLOCK_BYTES;
            float d = Simd.f16(data, block);
            float dmin = Simd.f16(data, block + 2);
            for (int g = 0; g < 4; g++) {
                float d1 = d * scale(data, block + 4, 2 * g);
                float m1 = dmin * min(data, block + 4, 2 * g);
                float d2 = d * scale(data, block + 4, 2 * g + 1);
                float m2 = dmin * min(data, block + 4, 2 * g + 1);
                int xg = xOffset + b * QK + 64 * g;
                for (int l = 0; l < 32; l++) {
                    int q = data.get(ValueLayout.JAVA_BYTE, block + 16 + 32 * g + l) & 0xff;
                    sum += (d1 * (q & 0x0f) - m1) * x[xg + l];
                    sum += (d2 * (q >>> 4) - m2) * x[xg + 32 + l];
                }
            }
        }
        return sum;
    }

    @Override
    public void dequantizeRow(int row, float[] out, int outOffset) {
        long base = rowOffset(row);
        for (int b = 0; b < cols / QK; b++) {
            long block = base + (long) b * BLOCK_BYTES;
            float d = Simd.f16(data, block);
            float dmin = Simd.f16(data, block + 2);
            for (int g = 0; g < 4; g++) {
                float d1 = d * scale(data, block + 4, 2 * g);
                float m1 = dmin * min(data, block + 4, 2 * g);
                float d2 = d * scale(data, block + 4, 2 * g + 1);
                float m2 = dmin * min(data, block + 4, 2 * g + 1);
                int og = outOffset + b * QK + 64 * g;
                for (int l = 0; l < 32; l++) {
                    int q = data.get(ValueLayout.JAVA_BYTE, block + 16 + 32 * g + l) & 0xff;
                    out[og + l] = d1 * (q & 0x0f) - m1;
                    out[og + 32 + l] = d2 * (q >>> 4) - m2;
                }
            }
        }
    }

    /**
     * Quantizes {@code n} values (a multiple of 256) into Q4_K super-blocks at {@code dst[dstOffset…]}, as ggml's
     * {@code quantize_row_q4_K_ref}: each 32-value sub-block gets a (scale, min) pair from a weighted least-squares
     * search ({@link SuperBlockQuantizer}); the eight pairs are then quantized to 6 bits against the block maxima.
     */
    public static void quantize(float[] src, int srcOffset, int n, MemorySegment dst, long dstOffset) {
        if (n % QK != 0) {
            throw new IllegalArgumentException("Q4_K quantizes whole super-blocks of " + QK + " values, got " + n);
        }
        SuperBlockQuantizer quantizer = new SuperBlockQuantizer(15, -1f, 20);
        int[] levels = new int[QK];
        for (int b = 0; b < n / QK; b++) {
            long block = dstOffset + (long) b * BLOCK_BYTES;
            quantizer.quantize(src, srcOffset + b * QK, dst, block, levels);
            for (int g = 0; g < 4; g++) {
                for (int l = 0; l < 32; l++) {
                    int q = levels[64 * g + l] | levels[64 * g + 32 + l] << 4;
                    dst.set(ValueLayout.JAVA_BYTE, block + 16 + 32 * g + l, (byte) q);
                }
            }
        }
    }

    /**
     * What Q4_K and Q5_K quantization share: the (scale, min) search of each sub-block of a super-block, their 6-bit
     * packing with d and dmin in the first 16 bytes of the block, and the levels in [0, nmax] against the scales
     * stored. The two differ in nmax and the search's candidate scales (rmin, steps).
     */
    static final class SuperBlockQuantizer {
        private final int nmax;
        private final float rmin;
        private final int steps;
        private final int[] aux = new int[32];
        private final float[] weights = new float[32];
        private final float[] scales = new float[8];
        private final float[] mins = new float[8];
        private final byte[] packed = new byte[12];

        SuperBlockQuantizer(int nmax, float rmin, int steps) {
            this.nmax = nmax;
            this.rmin = rmin;
            this.steps = steps;
        }

        /** Writes d, dmin and the packed scales of the 256 values at src[x…] to the block, their levels to levels. */
        void quantize(float[] src, int x, MemorySegment dst, long block, int[] levels) {
            float maxScale = 0f;
            float maxMin = 0f;
            for (int j = 0; j < 8; j++) {
                float sumX2 = 0f;
                for (int l = 0; l < 32; l++) {
                    sumX2 += src[x + 32 * j + l] * src[x + 32 * j + l];
                }
                float avX = (float) Math.sqrt(sumX2 / 32);
                for (int l = 0; l < 32; l++) {
                    weights[l] = avX + Math.abs(src[x + 32 * j + l]);
                }
                scales[j] = makeQkx2Quants(src, x + 32 * j, levels, 32 * j, j);
                maxScale = Math.max(maxScale, scales[j]);
                maxMin = Math.max(maxMin, mins[j]);
            }
            float invScale = maxScale > 0 ? 63f / maxScale : 0f;
            float invMin = maxMin > 0 ? 63f / maxMin : 0f;
            Arrays.fill(packed, (byte) 0);
            for (int j = 0; j < 8; j++) {
                int ls = Math.min(63, nearestInt(invScale * scales[j]));
                int lm = Math.min(63, nearestInt(invMin * mins[j]));
                if (j < 4) {
                    packed[j] = (byte) ls;
                    packed[j + 4] = (byte) lm;
                } else {
                    packed[j + 4] = (byte) ((ls & 0xf) | (lm & 0xf) << 4);
                    packed[j - 4] |= (byte) ((ls >> 4) << 6);
                    packed[j] |= (byte) ((lm >> 4) << 6);
                }
            }
            Simd.putF16(dst, block, maxScale / 63f);
            Simd.putF16(dst, block + 2, maxMin / 63f);
            MemorySegment.copy(MemorySegment.ofArray(packed), 0, dst, block + 4, 12);
            // Requantize against the 6-bit scales actually stored, as ggml does.
            float d = Simd.f16(dst, block);
            float dmin = Simd.f16(dst, block + 2);
            for (int j = 0; j < 8; j++) {
                float dj = d * scale(dst, block + 4, j);
                if (dj == 0f) {
                    continue;
                }
                float mj = dmin * min(dst, block + 4, j);
                for (int l = 0; l < 32; l++) {
                    levels[32 * j + l] = Math.max(0, Math.min(nmax, nearestInt((src[x + 32 * j + l] + mj) / dj)));
                }
            }
        }

        /**
         * ggml's {@code make_qkx2_quants(32, nmax, x, weights, L, &min, Laux, rmin, 0.1, steps, false)}: levels in
         * [0, nmax] for x ≈ scale·L − min, trying steps + 1 candidate scales and keeping the one with the least
         * weighted squared error. Writes the levels to {@code levels[lOffset…]}, −min to {@code mins[m]}, and
         * returns the scale.
         */
        private float makeQkx2Quants(float[] src, int x, int[] levels, int lOffset, int m) {
            final int n = 32;
            float min = src[x];
            float max = src[x];
            float sumW = weights[0];
            float sumX = sumW * src[x];
            for (int i = 1; i < n; i++) {
                float v = src[x + i];
                min = Math.min(min, v);
                max = Math.max(max, v);
                sumW += weights[i];
                sumX += weights[i] * v;
            }
            min = Math.min(min, 0f);
            if (max == min) {
                Arrays.fill(levels, lOffset, lOffset + n, 0);
                mins[m] = -min;
                return 0f;
            }
            float iscale = nmax / (max - min);
            float scale = 1 / iscale;
            float bestError = 0f;
            for (int i = 0; i < n; i++) {
                int l = Math.max(0, Math.min(nmax, nearestInt(iscale * (src[x + i] - min))));
                levels[lOffset + i] = l;
                float diff = scale * l + min - src[x + i];
                bestError += weights[i] * diff * diff;
            }
            for (int step = 0; step <= steps; step++) {
                iscale = (rmin + 0.1f * step + nmax) / (max - min);
                float sumL = 0f;
                float sumL2 = 0f;
                float sumXL = 0f;
                for (int i = 0; i < n; i++) {
                    int l = Math.max(0, Math.min(nmax, nearestInt(iscale * (src[x + i] - min))));
                    aux[i] = l;
                    float w = weights[i];
                    sumL += w * l;
                    sumL2 += w * l * l;
                    sumXL += w * l * src[x + i];
                }
                float det = sumW * sumL2 - sumL * sumL;
                if (det > 0) {
                    float thisScale = (sumW * sumXL - sumX * sumL) / det;
                    float thisMin = (sumL2 * sumX - sumL * sumXL) / det;
                    if (thisMin > 0) {
                        thisMin = 0;
                        thisScale = sumXL / sumL2;
                    }
                    float error = 0f;
                    for (int i = 0; i < n; i++) {
                        float diff = thisScale * aux[i] + thisMin - src[x + i];
                        error += weights[i] * diff * diff;
                    }
                    if (error < bestError) {
                        System.arraycopy(aux, 0, levels, lOffset, n);
                        bestError = error;
                        scale = thisScale;
                        min = thisMin;
                    }
                }
            }
            mins[m] = -min;
            return scale;
        }
    }

    /** ggml's nearest_int: round half to even, like its float magic-number trick. */
    private static int nearestInt(float v) {
        return (int) Math.rint(v);
    }
}
