package dev.nemotron4j.tensor;

import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;

import static dev.nemotron4j.tensor.Simd.I;
import static dev.nemotron4j.tensor.Simd.L;

/**
 * A matrix of 16-bit floats (F16, BF16). The kernels load L halves at a time, widened to ints by the load, and turn
 * them into floats in one or two ops. Half-width loads streamed rows from memory faster than full-width ones here: one
 * vector, 40000 × 3072, 2 threads, 29–31 GB/s against 26–28 for a full-width load split into its two halves in
 * registers. Rows of {@link #FOUR_ROWS_MIN_COLS} columns or more are decoded four at a time, so that each activation
 * load serves four rows: one row at a time re-reads the whole vector per row, and a 9216-wide one (36 KB of floats)
 * does not stay in L1 (19 against 26–29 GB/s). Each format writes its two kernels out with its own conversion: one
 * kernel here taking the conversion as a method returning a vector would box the vector wherever C2 does not inline it.
 */
public abstract sealed class HalfFloatTensor extends WeightTensor permits BF16Tensor, F16Tensor {
    /**
     * From this many columns on, decode takes rows four at a time; below, four rows make four streams, which the
     * prefetcher followed less well than one (3072 columns: 22–25 against 29–31 GB/s).
     */
    static final int FOUR_ROWS_MIN_COLS = 4096;

    HalfFloatTensor(MemorySegment data, int rows, int cols) {
        super(data, rows, cols);
    }

    /** Value j of the row whose values start at byte {@code rowOffset}. */
    abstract float value(long rowOffset, int j);

    /** Row · x over the whole vectors of L values. */
    abstract float vectorDot(int row, float[] x, int xOffset);

    /** out[outOffset + row + i] = (row + i) · x over the whole vectors of L values, for i = 0 … 3. */
    abstract void vectorDots4(int row, float[] x, int xOffset, float[] out, int outOffset);

    /** L values from byte {@code offset}, sign-extended into the lanes of an int vector. */
    final IntVector widened(long offset) {
        return (IntVector) ShortVector.fromMemorySegment(Simd.S, data, offset, ByteOrder.LITTLE_ENDIAN)
                .convertShape(VectorOperators.S2I, I, 0);
    }

    /** Columns in whole vectors of L; the rest are the tail. */
    final int vectorCols() {
        return cols - cols % L;
    }

    @Override
    public final float dot(int row, float[] x, int xOffset) {
        return vectorDot(row, x, xOffset) + tailDot(row, x, xOffset);
    }

    @Override
    public final void matmul(float[] x, int n, float[] out, int from, int to) {
        int r = from;
        for (; cols >= FOUR_ROWS_MIN_COLS && r + 4 <= to; r += 4) {
            for (int t = 0; t < n; t++) {
                vectorDots4(r, x, t * cols, out, t * rows);
                for (int i = 0; i < 4; i++) {
                    out[t * rows + r + i] += tailDot(r + i, x, t * cols);
                }
            }
        }
        for (; r < to; r++) {
            for (int t = 0; t < n; t++) {
                out[t * rows + r] = dot(r, x, t * cols);
            }
        }
    }

    @Override
    public final float dotScalar(int row, float[] x, int xOffset) {
        long base = rowOffset(row);
        float sum = 0f;
        for (int j = 0; j < cols; j++) {
            sum += value(base, j) * x[xOffset + j];
        }
        return sum;
    }

    @Override
    public final void dequantizeRow(int row, float[] out, int outOffset) {
        long base = rowOffset(row);
        for (int j = 0; j < cols; j++) {
            out[outOffset + j] = value(base, j);
        }
    }

    private float tailDot(int row, float[] x, int xOffset) {
        long base = rowOffset(row);
        float sum = 0f;
        for (int j = vectorCols(); j < cols; j++) {
            sum += value(base, j) * x[xOffset + j];
        }
        return sum;
    }
}
