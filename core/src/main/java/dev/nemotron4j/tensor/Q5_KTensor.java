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
 * ggml Q5_K: super-blocks of 256 values in 176 bytes: f16 d, f16 dmin, 12 bytes of packed 6-bit (scale, min) pairs
 * (as Q4_K), 32 bytes qh, 128 bytes qs. Group g of 64 values uses qs[32g…32g+31]: value l is the low nibble of qs[l]
 * plus bit 2g of qh[l] as bit 4 (sub-block 2g), value 32+l the high nibble plus bit 2g+1 (sub-block 2g+1).
 * A value of sub-block s is {@code d·scale(s) · q − dmin·min(s)}.
 */
public final class Q5_KTensor extends WeightTensor {
    private static final int QK = 256;
    private static final int BLOCK_BYTES = 176;

    public Q5_KTensor(MemorySegment data, int rows, int cols) {
        super(data, rows, cols);
    }

    @Override
    public GGMLType type() {
        return GGMLType.Q5_K;
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
                FloatVector qxLo = FloatVector.zero(F);
                FloatVector qxHi = FloatVector.zero(F);
                FloatVector xsLo = FloatVector.zero(F);
                FloatVector xsHi = FloatVector.zero(F);
                for (int j = 0; j < 32; j += B.length()) {
                    ByteVector qs = Simd.bytes(data, block + 48 + 32 * g + j);
                    ByteVector qh = Simd.bytes(data, block + 16 + j);
                    ByteVector lo = qs.and((byte) 0x0f)
                            .or(qh.lanewise(VectorOperators.LSHR, 2 * g).and((byte) 1).lanewise(VectorOperators.LSHL, 4));
                    ByteVector hi = qs.lanewise(VectorOperators.LSHR, 4)
                            .or(qh.lanewise(VectorOperators.LSHR, 2 * g + 1).and((byte) 1).lanewise(VectorOperators.LSHL, 4));
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
                acc = qxLo.fma(FloatVector.broadcast(F, d * Q4_KTensor.scale(data, scales, 2 * g)), acc);
                acc = qxHi.fma(FloatVector.broadcast(F, d * Q4_KTensor.scale(data, scales, 2 * g + 1)), acc);
                acc = xsLo.fma(FloatVector.broadcast(F, -dmin * Q4_KTensor.min(data, scales, 2 * g)), acc);
                acc = xsHi.fma(FloatVector.broadcast(F, -dmin * Q4_KTensor.min(data, scales, 2 * g + 1)), acc);
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
                float d1 = d * Q4_KTensor.scale(data, block + 4, 2 * g);
                float m1 = dmin * Q4_KTensor.min(data, block + 4, 2 * g);
                float d2 = d * Q4_KTensor.scale(data, block + 4, 2 * g + 1);
                float m2 = dmin * Q4_KTensor.min(data, block + 4, 2 * g + 1);
                int xg = xOffset + b * QK + 64 * g;
                for (int l = 0; l < 32; l++) {
                    int q = data.get(ValueLayout.JAVA_BYTE, block + 48 + 32 * g + l) & 0xff;
                    int h = data.get(ValueLayout.JAVA_BYTE, block + 16 + l) >>> (2 * g);
                    sum += (d1 * ((q & 0x0f) | (h & 1) << 4) - m1) * x[xg + l];
                    sum += (d2 * ((q >>> 4) | (h & 2) << 3) - m2) * x[xg + 32 + l];
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
                float d1 = d * Q4_KTensor.scale(data, block + 4, 2 * g);
                float m1 = dmin * Q4_KTensor.min(data, block + 4, 2 * g);
                float d2 = d * Q4_KTensor.scale(data, block + 4, 2 * g + 1);
                float m2 = dmin * Q4_KTensor.min(data, block + 4, 2 * g + 1);
                int og = outOffset + b * QK + 64 * g;
                for (int l = 0; l < 32; l++) {
                    int q = data.get(ValueLayout.JAVA_BYTE, block + 48 + 32 * g + l) & 0xff;
                    int h = data.get(ValueLayout.JAVA_BYTE, block + 16 + l) >>> (2 * g);
                    out[og + l] = d1 * ((q & 0x0f) | (h & 1) << 4) - m1;
                    out[og + 32 + l] = d2 * ((q >>> 4) | (h & 2) << 3) - m2;
                }
            }
        }
    }

    /**
     * Quantizes {@code n} values (a multiple of 256) into Q5_K super-blocks at {@code dst[dstOffset…]}, as ggml's
     * {@code quantize_row_q5_K_ref}: Q4_K's scales and mins with levels in [0, 31], whose bit 4 goes to qh.
     */
    public static void quantize(float[] src, int srcOffset, int n, MemorySegment dst, long dstOffset) {
        if (n % QK != 0) {
            throw new IllegalArgumentException("Q5_K quantizes whole super-blocks of " + QK + " values, got " + n);
        }
        Q4_KTensor.SuperBlockQuantizer quantizer = new Q4_KTensor.SuperBlockQuantizer(31, -0.5f, 15);
        int[] levels = new int[QK];
        byte[] qh = new byte[32];
        for (int b = 0; b < n / QK; b++) {
            long block = dstOffset + (long) b * BLOCK_BYTES;
            quantizer.quantize(src, srcOffset + b * QK, dst, block, levels);
            Arrays.fill(qh, (byte) 0);
            for (int g = 0; g < 4; g++) {
                for (int l = 0; l < 32; l++) {
                    int low = levels[64 * g + l];
                    int high = levels[64 * g + 32 + l];
                    qh[l] |= (byte) ((low >> 4) << 2 * g | (high >> 4) << 2 * g + 1);
                    dst.set(ValueLayout.JAVA_BYTE, block + 48 + 32 * g + l, (byte) ((low & 0x0f) | (high & 0x0f) << 4));
                }
            }
            MemorySegment.copy(MemorySegment.ofArray(qh), 0, dst, block + 16, 32);
        }
    }
}
