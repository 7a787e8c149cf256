package dev.nemotron4j.tensor;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorShuffle;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import static dev.nemotron4j.tensor.Simd.B;
import static dev.nemotron4j.tensor.Simd.B_PARTS;
import static dev.nemotron4j.tensor.Simd.F;
import static dev.nemotron4j.tensor.Simd.L;

/**
 * ggml Q8_0: blocks of 32 values in 34 bytes: f16 scale d, then 32 signed bytes q[0..31].
 * Value j of the block is {@code d · q[j]}.
 */
public final class Q8_0Tensor extends WeightTensor {
    private static final int QK = 32;
    private static final int BLOCK_BYTES = 34;

    public Q8_0Tensor(MemorySegment data, int rows, int cols) {
        super(data, rows, cols);
    }

    @Override
    public GGMLType type() {
        return GGMLType.Q8_0;
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
            for (int j = 0; j < QK; j += B.length()) {
                ByteVector q = Simd.bytes(data, block + 2 + j);
                for (int p = 0; p < B_PARTS; p++) {
                    sum = Simd.toFloats(q, p).fma(FloatVector.fromArray(F, x, xb + j + p * L), sum);
                }
            }
            acc = sum.fma(FloatVector.broadcast(F, Simd.f16(data, block)), acc);
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
            for (int j = 0; j < QK; j++) {
                sum += d * data.get(ValueLayout.JAVA_BYTE, block + 2 + j) * x[xOffset + b * QK + j];
            }
        }
        return sum;
    }

    /** Vector API: the prompt matmul decodes every row through here. */
    @Override
    public void dequantizeRow(int row, float[] out, int outOffset) {
        long base = rowOffset(row);
        for (int b = 0; b < cols / QK; b++) {
            long block = base + (long) b * BLOCK_BYTES;
            FloatVector d = FloatVector.broadcast(F, Simd.f16(data, block));
            for (int j = 0; j < QK; j += B.length()) {
                ByteVector q = Simd.bytes(data, block + 2 + j);
                for (int p = 0; p < B_PARTS; p++) {
                    Simd.toFloats(q, p).mul(d).intoArray(out, outOffset + b * QK + j + p * L);
                }
            }
        }
    }

    /** Scalar reference of {@link #dequantizeRow}; the tests hold the two together. */
    void dequantizeRowScalar(int row, float[] out, int outOffset) {
        long base = rowOffset(row);
        for (int b = 0; b < cols / QK; b++) {
            long block = base + (long) b * BLOCK_BYTES;
            float d = Simd.f16(data, block);
            for (int j = 0; j < QK; j++) {
                out[outOffset + b * QK + j] = d * data.get(ValueLayout.JAVA_BYTE, block + 2 + j);
            }
        }
    }

    /**
     * Quantizes {@code n} values (a multiple of 32) into Q8_0 blocks at {@code dst[dstOffset…]}, exactly as ggml's
     * {@code quantize_row_q8_0_ref}: d = max|x|/127, q = round-half-away-from-zero(x/d).
     */
    public static void quantize(float[] src, int srcOffset, int n, MemorySegment dst, long dstOffset) {
        if (n % QK != 0) {
            throw new IllegalArgumentException("Q8_0 quantizes whole blocks of " + QK + " values, got " + n);
        }
        for (int b = 0; b < n / QK; b++) {
            int s = srcOffset + b * QK;
            long block = dstOffset + (long) b * BLOCK_BYTES;
            float amax = 0f;
            for (int j = 0; j < QK; j++) {
                amax = Math.max(amax, Math.abs(src[s + j]));
            }
            float d = amax / 127f;
            float id = d != 0f ? 1f / d : 0f;
            Simd.putF16(dst, block, d);
            for (int j = 0; j < QK; j++) {
                dst.set(ValueLayout.JAVA_BYTE, block + 2 + j, (byte) roundHalfAway(src[s + j] * id));
            }
        }
    }

    /** C's {@code roundf}: halves round away from zero (Math.round would send -2.5 to -2). */
    static int roundHalfAway(float v) {
        return (int) Math.copySign(Math.floor(Math.abs((double) v) + 0.5), v);
    }
}
