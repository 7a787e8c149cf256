package dev.nemotron4j.tensor;

/**
 * A weight format whose rows can be written as small integers with a float scale (and offset) per group of columns,
 * W[r][c] = scale[c / group] · q + offset[c / group], |q| ≤ {@link #intMax()}: what the integer prompt product
 * ({@code kernels.IntGemm}) multiplies by 8-bit activations in 16-bit lanes. The smaller the integers, the more
 * products one 16-bit sum can take before it must be widened.
 */
public interface IntegerRows {
    /** The largest |q| a row holds. */
    int intMax();

    /** Columns that share one scale: 32 or 16 (a divisor of the 32 of an activation block). */
    int intGroup();

    /** Whether groups have offsets; those that do are groups of 32. */
    boolean intOffsets();

    /**
     * Writes row {@code row}: q[qOffset + p] for the column at stored position p ({@link WeightTensor#storedOrder()}),
     * and for each group g in column order scales[gOffset + g] and, if the format has them, offsets[gOffset + g].
     */
    void decodeRowInt(int row, short[] q, int qOffset, float[] scales, float[] offsets, int gOffset);
}
