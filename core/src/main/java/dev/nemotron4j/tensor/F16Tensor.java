package dev.nemotron4j.tensor;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;

import static dev.nemotron4j.tensor.Simd.F;
import static dev.nemotron4j.tensor.Simd.I;
import static dev.nemotron4j.tensor.Simd.L;
import static dev.nemotron4j.tensor.Simd.LE_SHORT;
import static dev.nemotron4j.tensor.Simd.S_FULL;

/** IEEE 754 half-precision floats, little-endian, 2 bytes per element (1 sign, 5 exponent, 10 mantissa bits). */
public final class F16Tensor extends WeightTensor {

    public F16Tensor(MemorySegment data, int rows, int cols) {
        super(data, rows, cols);
    }

    @Override
    public GGMLType type() {
        return GGMLType.F16;
    }

    /** Two accumulators over 2·L values per step, with the three-op {@link Simd#halfToFloat} conversion. */
    @Override
    public float dot(int row, float[] x, int xOffset) {
        long base = rowOffset(row);
        int upper = S_FULL.loopBound(cols);
        FloatVector acc0 = FloatVector.zero(F);
        FloatVector acc1 = acc0;
        int j = 0;
        for (; j < upper; j += S_FULL.length()) {
            ShortVector h = ShortVector.fromMemorySegment(S_FULL, data, base + 2L * j, ByteOrder.LITTLE_ENDIAN);
            acc0 = Simd.halfToFloat((IntVector) h.convertShape(VectorOperators.S2I, I, 0))
                    .fma(FloatVector.fromArray(F, x, xOffset + j), acc0);
            acc1 = Simd.halfToFloat((IntVector) h.convertShape(VectorOperators.S2I, I, 1))
                    .fma(FloatVector.fromArray(F, x, xOffset + j + L), acc1);
        }
        float sum = acc0.add(acc1).reduceLanes(VectorOperators.ADD);
        for (; j < cols; j++) {
            sum += Float.float16ToFloat(data.get(LE_SHORT, base + 2L * j)) * x[xOffset + j];
        }
        return sum;
    }

    /** Per-thread activations in {@link #pairedDot}'s order, reused across calls. */
    private static final ThreadLocal<float[]> PAIRED = ThreadLocal.withInitial(() -> new float[0]);

    /**
     * The decode path: each vector is first put in pair order (of every 2·L values, the L at even positions, then
     * the L at odd ones), so that {@link #pairedDot} can read 32-bit pairs of halves and convert both halves in
     * place, with no widening shuffle.
     */
    @Override
    public void matmul(float[] x, int n, float[] out, int from, int to) {
        float[] paired = PAIRED.get();
        if (paired.length < n * cols) {
            paired = new float[n * cols];
            PAIRED.set(paired);
        }
        int chunk = 2 * L;
        for (int t = 0; t < n; t++) {
            int base = t * cols;
            int c = 0;
            for (; c + chunk <= cols; c += chunk) {
                for (int i = 0; i < L; i++) {
                    paired[base + c + i] = x[base + c + 2 * i];
                    paired[base + c + L + i] = x[base + c + 2 * i + 1];
                }
            }
            System.arraycopy(x, base + c, paired, base + c, cols - c);
        }
        for (int r = from; r < to; r++) {
            for (int t = 0; t < n; t++) {
                out[t * rows + r] = pairedDot(r, paired, t * cols);
            }
        }
    }

    /**
     * Row · x with x in pair order: a 32-bit lane holds halves 2i (low) and 2i + 1 (high). As in
     * {@link Simd#highHalfToFloat}, a shift and a mask put a half's bits where a float has them, which leaves the
     * float 2¹¹² too small; that factor multiplies the sum once instead of every value (two ops per 16 values fewer,
     * 1.2× on one core). Finite halves only, as there.
     */
    float pairedDot(int row, float[] paired, int xOffset) {
        long base = rowOffset(row);
        int chunk = 2 * L;
        int upper = cols - cols % chunk;
        FloatVector acc0 = FloatVector.zero(F);
        FloatVector acc1 = acc0;
        for (int j = 0; j < upper; j += chunk) {
            IntVector pairs = IntVector.fromMemorySegment(I, data, base + 2L * j, ByteOrder.LITTLE_ENDIAN);
            acc0 = pairs.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 3).and(0x8FFFE000)
                    .reinterpretAsFloats().fma(FloatVector.fromArray(F, paired, xOffset + j), acc0);
            acc1 = pairs.lanewise(VectorOperators.ASHR, 3).and(0x8FFFE000)
                    .reinterpretAsFloats().fma(FloatVector.fromArray(F, paired, xOffset + j + L), acc1);
        }
        float sum = acc0.add(acc1).reduceLanes(VectorOperators.ADD) * 0x1p112f;
        for (int j = upper; j < cols; j++) {
            sum += Float.float16ToFloat(data.get(LE_SHORT, base + 2L * j)) * paired[xOffset + j];
        }
        return sum;
    }

    @Override
    public float dotScalar(int row, float[] x, int xOffset) {
        long base = rowOffset(row);
        float sum = 0f;
        for (int j = 0; j < cols; j++) {
            sum += Float.float16ToFloat(data.get(LE_SHORT, base + 2L * j)) * x[xOffset + j];
        }
        return sum;
    }

    @Override
    public void dequantizeRow(int row, float[] out, int outOffset) {
        long base = rowOffset(row);
        for (int j = 0; j < cols; j++) {
            out[outOffset + j] = Float.float16ToFloat(data.get(LE_SHORT, base + 2L * j));
        }
    }

    /** Writes {@code n} values as half floats (round to nearest even, as ggml's converter) at {@code dst[dstOffset…]}. */
    public static void quantize(float[] src, int srcOffset, int n, MemorySegment dst, long dstOffset) {
        for (int j = 0; j < n; j++) {
            dst.set(LE_SHORT, dstOffset + 2L * j, Float.floatToFloat16(src[srcOffset + j]));
        }
    }
}
