package dev.nemotron4j.tensor;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShuffle;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import static dev.nemotron4j.tensor.Simd.B;
import static dev.nemotron4j.tensor.Simd.B_PARTS;
import static dev.nemotron4j.tensor.Simd.F;
import static dev.nemotron4j.tensor.Simd.L;

/**
 * ggml Q6_K: super-blocks of 256 values in 210 bytes: ql[128] (low 4 bits), qh[64] (high 2 bits), 16 signed 8-bit
 * scales, f16 d (last). Each half h of 128 values uses ql[64h…], qh[32h…], scales[8h…]; for l &lt; 32 its values
 * l, l+32, l+64, l+96 are the low nibbles of ql[l], ql[l+32], then their high nibbles, with bits 0-1, 2-3, 4-5, 6-7
 * of qh[l] on top. Value v (0-127 in the half) is {@code d · scales[v/16] · (q − 32)}.
 */
public final class Q6_KTensor extends WeightTensor {
    private static final int QK = 256;
    private static final int BLOCK_BYTES = 210;

    public Q6_KTensor(MemorySegment data, int rows, int cols) {
        super(data, rows, cols);
    }

    @Override
    public GGMLType type() {
        return GGMLType.Q6_K;
    }

    @Override
    public float dot(int row, float[] x, int xOffset) {
        long base = rowOffset(row);
        int blocks = cols / QK;
        FloatVector acc = FloatVector.zero(F);
        for (int b = 0; b < blocks; b++) {
            long block = base + (long) b * BLOCK_BYTES;
            float d = Simd.f16(data, block + 208);
            for (int half = 0; half < 2; half++) {
                long ql = block + 64 * half;
                long qh = block + 128 + 32 * half;
                long sc = block + 192 + 8 * half;
                int xh = xOffset + b * QK + 128 * half;
                // a load of B.length() ≤ 16 values never straddles two 16-value scale runs
                for (int l = 0; l < 32; l += B.length()) {
                    ByteVector a = Simd.bytes(data, ql + l);
                    ByteVector c = Simd.bytes(data, ql + 32 + l);
                    ByteVector h = Simd.bytes(data, qh + l);
                    // Bits 2i..2i+1 of qh moved to bits 4-5, written out here rather than in a helper: in a
                    // method this large C2 stops inlining small helpers, and the Vector API then runs as plain Java.
                    ByteVector h1 = h.and((byte) 3).lanewise(VectorOperators.LSHL, 4);
                    ByteVector h2 = h.lanewise(VectorOperators.LSHR, 2).and((byte) 3).lanewise(VectorOperators.LSHL, 4);
                    ByteVector h3 = h.lanewise(VectorOperators.LSHR, 4).and((byte) 3).lanewise(VectorOperators.LSHL, 4);
                    ByteVector h4 = h.lanewise(VectorOperators.LSHR, 6).and((byte) 3).lanewise(VectorOperators.LSHL, 4);
                    ByteVector q1 = a.and((byte) 0x0f).or(h1).sub((byte) 32);
                    ByteVector q2 = c.and((byte) 0x0f).or(h2).sub((byte) 32);
                    ByteVector q3 = a.lanewise(VectorOperators.LSHR, 4).or(h3).sub((byte) 32);
                    ByteVector q4 = c.lanewise(VectorOperators.LSHR, 4).or(h4).sub((byte) 32);
                    int is = l / 16;
                    FloatVector s1 = FloatVector.broadcast(F, d * data.get(ValueLayout.JAVA_BYTE, sc + is));
                    FloatVector s2 = FloatVector.broadcast(F, d * data.get(ValueLayout.JAVA_BYTE, sc + is + 2));
                    FloatVector s3 = FloatVector.broadcast(F, d * data.get(ValueLayout.JAVA_BYTE, sc + is + 4));
                    FloatVector s4 = FloatVector.broadcast(F, d * data.get(ValueLayout.JAVA_BYTE, sc + is + 6));
                    for (int p = 0; p < B_PARTS; p++) {
                        int xj = xh + l + p * L;
                        FloatVector v1 = (FloatVector) q1.convertShape(VectorOperators.B2F, F, p);
                        acc = v1.mul(FloatVector.fromArray(F, x, xj)).fma(s1, acc);
                        FloatVector v2 = (FloatVector) q2.convertShape(VectorOperators.B2F, F, p);
                        acc = v2.mul(FloatVector.fromArray(F, x, xj + 32)).fma(s2, acc);
                        FloatVector v3 = (FloatVector) q3.convertShape(VectorOperators.B2F, F, p);
                        acc = v3.mul(FloatVector.fromArray(F, x, xj + 64)).fma(s3, acc);
                        FloatVector v4 = (FloatVector) q4.convertShape(VectorOperators.B2F, F, p);
                        acc = v4.mul(FloatVector.fromArray(F, x, xj + 96)).fma(s4, acc);
                    }
                }
            }
        }
        for (VectorShuffle<Float> halving : VectorMath.HALVINGS) {
            acc = acc.add(acc.rearrange(halving));
        }
        return acc.lane(0);
    }

    /** Value {@code v} (0-127) of the half starting at ql/qh, before scaling. */
    private int quant(long ql, long qh, int v) {
        int l = v & 31;
        int quarter = v >>> 5;
        int low = data.get(ValueLayout.JAVA_BYTE, ql + l + (quarter & 1) * 32) & 0xff;
        int nibble = quarter < 2 ? low & 0x0f : low >>> 4;
        int high = (data.get(ValueLayout.JAVA_BYTE, qh + l) >>> (2 * quarter)) & 3;
        return (nibble | high << 4) - 32;
    }

    @Override
    public float dotScalar(int row, float[] x, int xOffset) {
        long base = rowOffset(row);
        float sum = 0f;
        for (int b = 0; b < cols / QK; b++) {
            long block = base + (long) b * BLOCK_BYTES;
            float d = Simd.f16(data, block + 208);
            for (int half = 0; half < 2; half++) {
                int xh = xOffset + b * QK + 128 * half;
                for (int v = 0; v < 128; v++) {
                    float scale = d * data.get(ValueLayout.JAVA_BYTE, block + 192 + 8 * half + v / 16);
                    sum += scale * quant(block + 64 * half, block + 128 + 32 * half, v) * x[xh + v];
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
            float d = Simd.f16(data, block + 208);
            for (int half = 0; half < 2; half++) {
                int oh = outOffset + b * QK + 128 * half;
                for (int v = 0; v < 128; v++) {
                    float scale = d * data.get(ValueLayout.JAVA_BYTE, block + 192 + 8 * half + v / 16);
                    out[oh + v] = scale * quant(block + 64 * half, block + 128 + 32 * half, v);
                }
            }
        }
    }

    /**
     * Quantizes {@code n} values (a multiple of 256) into Q6_K blocks at {@code dst[dstOffset…]}. Simpler than ggml's
     * search (not byte-identical to llama-quantize): each 16-value run gets the scale that maps its largest-magnitude
     * value to −32, the 16 scales share d = (largest-magnitude scale)/−128, and values are rounded with the stored
     * scale d·scale so that rounding of the scales is compensated.
     */
    public static void quantize(float[] src, int srcOffset, int n, MemorySegment dst, long dstOffset) {
        if (n % QK != 0) {
            throw new IllegalArgumentException("Q6_K quantizes whole blocks of " + QK + " values, got " + n);
        }
        float[] scales = new float[16];
        for (int b = 0; b < n / QK; b++) {
            int s = srcOffset + b * QK;
            long block = dstOffset + (long) b * BLOCK_BYTES;
            float maxScale = 0f;
            for (int r = 0; r < 16; r++) {
                scales[r] = extreme(src, s + 16 * r, 16) / -32f;
                if (Math.abs(scales[r]) > Math.abs(maxScale)) {
                    maxScale = scales[r];
                }
            }
            float d = maxScale / -128f;
            Simd.putF16(dst, block + 208, d);
            d = Simd.f16(dst, block + 208);
            float id = d != 0f ? 1f / d : 0f;
            for (int r = 0; r < 16; r++) {
                int sc = Math.clamp(Math.round(scales[r] * id), -128, 127);
                dst.set(ValueLayout.JAVA_BYTE, block + 192 + r, (byte) sc);
            }
            dst.asSlice(block, 192).fill((byte) 0);
            for (int half = 0; half < 2; half++) {
                for (int v = 0; v < 128; v++) {
                    float step = d * dst.get(ValueLayout.JAVA_BYTE, block + 192 + 8 * half + v / 16);
                    int q = step != 0f ? Math.clamp(Math.round(src[s + 128 * half + v] / step), -32, 31) : 0;
                    putQuant(dst, block + 64 * half, block + 128 + 32 * half, v, q + 32);
                }
            }
        }
    }

    /** The value of largest magnitude among {@code n} values (sign kept). */
    static float extreme(float[] x, int offset, int n) {
        float max = 0f;
        for (int j = offset; j < offset + n; j++) {
            if (Math.abs(x[j]) > Math.abs(max)) {
                max = x[j];
            }
        }
        return max;
    }

    /** Stores the 6-bit {@code q} of value {@code v} of a half, the inverse of {@link #quant}. */
    private static void putQuant(MemorySegment dst, long ql, long qh, int v, int q) {
        int l = v & 31;
        int quarter = v >>> 5;
        long lowAt = ql + l + (quarter & 1) * 32;
        int low = dst.get(ValueLayout.JAVA_BYTE, lowAt) & 0xff;
        low |= quarter < 2 ? q & 0x0f : (q & 0x0f) << 4;
        dst.set(ValueLayout.JAVA_BYTE, lowAt, (byte) low);
        int high = dst.get(ValueLayout.JAVA_BYTE, qh + l) & 0xff;
        dst.set(ValueLayout.JAVA_BYTE, qh + l, (byte) (high | (q >>> 4) << (2 * quarter)));
    }
}
