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
 * ggml Q4_0: blocks of 32 values in 18 bytes: f16 scale d, then 16 bytes qs. Byte j holds value j in its low nibble
 * and value j+16 in its high nibble; a value is {@code d · (nibble − 8)}.
 */
public final class Q4_0Tensor extends WeightTensor {
    private static final int QK = 32;
    private static final int BLOCK_BYTES = 18;

    public Q4_0Tensor(MemorySegment data, int rows, int cols) {
        super(data, rows, cols);
    }

    @Override
    public GGMLType type() {
        return GGMLType.Q4_0;
    }

    @Override
    public float dot(int row, float[] x, int xOffset) {
        long base = rowOffset(row);
        int blocks = cols / QK;
        FloatVector acc = FloatVector.zero(F);
        for (int b = 0; b < blocks; b++) {
            long block = base + (long) b * BLOCK_BYTES;
            int xb = xOffset + b * QK;
            FloatVector sum = FloatVector.zero(F);
            for (int j = 0; j < QK / 2; j += B.length()) {
                ByteVector qs = Simd.bytes(data, block + 2 + j);
                ByteVector lo = qs.and((byte) 0x0f).sub((byte) 8);
                ByteVector hi = qs.lanewise(VectorOperators.LSHR, 4).sub((byte) 8);
                for (int p = 0; p < B_PARTS; p++) {
                    int xj = xb + j + p * L;
                    sum = Simd.toFloats(lo, p).fma(FloatVector.fromArray(F, x, xj), sum);
                    sum = Simd.toFloats(hi, p).fma(FloatVector.fromArray(F, x, xj + QK / 2), sum);
                }
            }
            acc = sum.fma(FloatVector.broadcast(F, Simd.f16(data, block)), acc);
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
            int xb = xOffset + b * QK;
            for (int j = 0; j < QK / 2; j++) {
                int q = data.get(ValueLayout.JAVA_BYTE, block + 2 + j) & 0xff;
                sum += d * ((q & 0x0f) - 8) * x[xb + j];
                sum += d * ((q >>> 4) - 8) * x[xb + j + QK / 2];
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
            int ob = outOffset + b * QK;
            for (int j = 0; j < QK / 2; j++) {
                int q = data.get(ValueLayout.JAVA_BYTE, block + 2 + j) & 0xff;
                out[ob + j] = d * ((q & 0x0f) - 8);
                out[ob + j + QK / 2] = d * ((q >>> 4) - 8);
            }
        }
    }

    /**
     * Quantizes {@code n} values (a multiple of 32) into Q4_0 blocks at {@code dst[dstOffset…]}, exactly as ggml's
     * {@code quantize_row_q4_0_ref}: d = −(the value of largest magnitude)/8, so that value maps to nibble 0 exactly and
     * the rest to min(15, trunc(x/d + 8.5)).
     */
    public static void quantize(float[] src, int srcOffset, int n, MemorySegment dst, long dstOffset) {
        if (n % QK != 0) {
            throw new IllegalArgumentException("Q4_0 quantizes whole blocks of " + QK + " values, got " + n);
        }
        for (int b = 0; b < n / QK; b++) {
            int s = srcOffset + b * QK;
            long block = dstOffset + (long) b * BLOCK_BYTES;
            float amax = 0f;
            float max = 0f;
            for (int j = 0; j < QK; j++) {
                float v = src[s + j];
                if (amax < Math.abs(v)) {
                    amax = Math.abs(v);
                    max = v;
                }
            }
            float d = max / -8f;
            float id = d != 0f ? 1f / d : 0f;
            Simd.putF16(dst, block, d);
            for (int j = 0; j < QK / 2; j++) {
                int lo = Math.min(15, (int) (src[s + j] * id + 8.5f));
                int hi = Math.min(15, (int) (src[s + j + QK / 2] * id + 8.5f));
                dst.set(ValueLayout.JAVA_BYTE, block + 2 + j, (byte) (lo | hi << 4));
            }
        }
    }
}
