package dev.nemotron4j.tensor;

import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShuffle;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import static dev.nemotron4j.tensor.Simd.B;
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
        float[] sums = new float[cols / QK];
        blockSums(x, xOffset, sums, 0);
        return dot(row, x, xOffset, sums, 0);
    }

    /**
     * Σ_b d_b · (Σ_j nibble_j · x_j − 8 · Σ_j x_j) with the per-block sums of x given: leaving the −8 to the scalar
     * side saves two vector ops per block, and the decode kernel is bound by vector ops.
     */
    private float dot(int row, float[] x, int xOffset, float[] sums, int sumsOffset) {
        long base = rowOffset(row);
        int blocks = cols / QK;
        FloatVector acc = FloatVector.zero(F);
        float offset = 0f;
        for (int b = 0; b < blocks; b++) {
            long block = base + (long) b * BLOCK_BYTES;
            int xb = xOffset + b * QK;
            FloatVector sum = FloatVector.zero(F);
            for (int j = 0; j < QK / 2; j += L) {
                IntVector q = quants(block, j);
                sum = Simd.toFloats(q.and(0x0f)).fma(FloatVector.fromArray(F, x, xb + j), sum);
                sum = Simd.toFloats(q.lanewise(VectorOperators.LSHR, 4).and(0x0f))
                        .fma(FloatVector.fromArray(F, x, xb + j + QK / 2), sum);
            }
            float d = Simd.f16(data, block);
            acc = sum.fma(FloatVector.broadcast(F, d), acc);
            offset += d * sums[sumsOffset + b];
        }
        for (VectorShuffle<Float> halving : VectorMath.HALVINGS) {
            acc = acc.add(acc.rearrange(halving));
        }
        return acc.lane(0) - 8f * offset;
    }

    private void blockSums(float[] x, int xOffset, float[] sums, int sumsOffset) {
        for (int b = 0; b < cols / QK; b++) {
            FloatVector s = FloatVector.zero(F);
            for (int j = 0; j < QK; j += L) {
                s = s.add(FloatVector.fromArray(F, x, xOffset + b * QK + j));
            }
            for (VectorShuffle<Float> halving : VectorMath.HALVINGS) {
                s = s.add(s.rearrange(halving));
            }
            sums[sumsOffset + b] = s.lane(0);
        }
    }

    /** Per-thread scratch for {@link #blockSums}, so a decode matmul allocates nothing. */
    private static final ThreadLocal<float[][]> SUMS = ThreadLocal.withInitial(() -> new float[1][0]);

    /**
     * One dot product per row and vector, with the block sums of every vector computed first, so a row is read from
     * memory once and stays in L1 for the other vectors.
     */
    @Override
    public void matmul(float[] x, int n, float[] out, int from, int to) {
        int blocks = cols / QK;
        float[][] scratch = SUMS.get();
        if (scratch[0].length < n * blocks) {
            scratch[0] = new float[n * blocks];
        }
        float[] sums = scratch[0];
        for (int t = 0; t < n; t++) {
            blockSums(x, t * cols, sums, t * blocks);
        }
        for (int r = from; r < to; r++) {
            for (int t = 0; t < n; t++) {
                out[t * rows + r] = dot(r, x, t * cols, sums, t * blocks);
            }
        }
    }

    /** Bytes j … j+L−1 of a block's qs as ints (int ops avoid x86's missing byte shifts); bits 0-7 are the byte. */
    private IntVector quants(long block, int j) {
        int inLoad = j % B.length();
        return Simd.toInts(Simd.bytes(data, block + 2 + j - inLoad), inLoad / L);
    }

    private static FloatVector low(IntVector q) {
        return Simd.toFloats(q.and(0x0f).sub(8));
    }

    private static FloatVector high(IntVector q) {
        return Simd.toFloats(q.lanewise(VectorOperators.LSHR, 4).and(0x0f).sub(8));
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

    /** Vector API: the prompt matmul decodes every row through here. */
    @Override
    public void dequantizeRow(int row, float[] out, int outOffset) {
        long base = rowOffset(row);
        for (int b = 0; b < cols / QK; b++) {
            long block = base + (long) b * BLOCK_BYTES;
            FloatVector d = FloatVector.broadcast(F, Simd.f16(data, block));
            int ob = outOffset + b * QK;
            for (int j = 0; j < QK / 2; j += L) {
                IntVector q = quants(block, j);
                low(q).mul(d).intoArray(out, ob + j);
                high(q).mul(d).intoArray(out, ob + j + QK / 2);
            }
        }
    }

    /** Scalar reference of {@link #dequantizeRow}; the tests hold the two together. */
    void dequantizeRowScalar(int row, float[] out, int outOffset) {
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
