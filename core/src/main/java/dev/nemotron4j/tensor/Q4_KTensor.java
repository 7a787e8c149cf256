package dev.nemotron4j.tensor;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

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
                        qxLo = Simd.toFloats(lo, p).fma(x0, qxLo);
                        qxHi = Simd.toFloats(hi, p).fma(x1, qxHi);
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
        return acc.reduceLanes(VectorOperators.ADD);
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
     * Quantizes {@code n} values (a multiple of 256) into Q4_K blocks at {@code dst[dstOffset…]}. Simpler than ggml's
     * make_qkx2 search (not byte-identical to llama-quantize): each 32-value sub-block spans [min(0, lo), hi] with 15
     * steps; its step and −min are stored as 6-bit multiples of d and dmin, and values are rounded against the stored
     * step and min.
     */
    public static void quantize(float[] src, int srcOffset, int n, MemorySegment dst, long dstOffset) {
        if (n % QK != 0) {
            throw new IllegalArgumentException("Q4_K quantizes whole blocks of " + QK + " values, got " + n);
        }
        float[] steps = new float[8];
        float[] mins = new float[8];
        for (int b = 0; b < n / QK; b++) {
            int s = srcOffset + b * QK;
            long block = dstOffset + (long) b * BLOCK_BYTES;
            float maxStep = 0f;
            float maxMin = 0f;
            for (int sub = 0; sub < 8; sub++) {
                float lo = 0f;
                float hi = -Float.MAX_VALUE;
                for (int j = s + 32 * sub; j < s + 32 * sub + 32; j++) {
                    lo = Math.min(lo, src[j]);
                    hi = Math.max(hi, src[j]);
                }
                steps[sub] = (hi - lo) / 15f;
                mins[sub] = -lo;
                maxStep = Math.max(maxStep, steps[sub]);
                maxMin = Math.max(maxMin, mins[sub]);
            }
            Simd.putF16(dst, block, maxStep / 63f);
            Simd.putF16(dst, block + 2, maxMin / 63f);
            float d = Simd.f16(dst, block);
            float dmin = Simd.f16(dst, block + 2);
            long scales = block + 4;
            dst.asSlice(scales, 12).fill((byte) 0);
            for (int sub = 0; sub < 8; sub++) {
                // the step rounds up so the range still fits 15 steps; the min rounds to nearest
                int sc = d != 0f ? Math.min(63, (int) Math.ceil(steps[sub] / d)) : 0;
                int m = dmin != 0f ? Math.min(63, Math.round(mins[sub] / dmin)) : 0;
                putScaleMin(dst, scales, sub, sc, m);
            }
            for (int g = 0; g < 4; g++) {
                float step1 = d * scale(dst, scales, 2 * g);
                float min1 = dmin * min(dst, scales, 2 * g);
                float step2 = d * scale(dst, scales, 2 * g + 1);
                float min2 = dmin * min(dst, scales, 2 * g + 1);
                for (int l = 0; l < 32; l++) {
                    int q0 = nibble(src[s + 64 * g + l], step1, min1);
                    int q1 = nibble(src[s + 64 * g + 32 + l], step2, min2);
                    dst.set(ValueLayout.JAVA_BYTE, block + 16 + 32 * g + l, (byte) (q0 | q1 << 4));
                }
            }
        }
    }

    private static int nibble(float x, float step, float min) {
        return step != 0f ? Math.clamp(Math.round((x + min) / step), 0, 15) : 0;
    }

    /** The inverse of {@link #scale}/{@link #min}: 6-bit scale and min of sub-block {@code s} into the 12 bytes. */
    static void putScaleMin(MemorySegment dst, long scales, int s, int sc, int m) {
        if (s < 4) {
            orByte(dst, scales + s, sc);
            orByte(dst, scales + s + 4, m);
        } else {
            orByte(dst, scales + s + 4, (sc & 0x0f) | (m & 0x0f) << 4);
            orByte(dst, scales + s - 4, (sc >>> 4) << 6);
            orByte(dst, scales + s, (m >>> 4) << 6);
        }
    }

    private static void orByte(MemorySegment dst, long at, int bits) {
        dst.set(ValueLayout.JAVA_BYTE, at, (byte) (dst.get(ValueLayout.JAVA_BYTE, at) | bits));
    }
}
