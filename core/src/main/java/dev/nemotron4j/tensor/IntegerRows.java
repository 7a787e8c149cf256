package dev.nemotron4j.tensor;

/**
 * A 4-bit weight format whose rows can be written as integers q in [−8, 7] with a float scale (and offset) per block
 * of 32 columns, W[r][c] = scale[c / 32] · q + offset[c / 32]: what the integer prompt product
 * ({@code kernels.IntGemm}) multiplies by 8-bit activations in 16-bit lanes, where a block's 32 products (at most
 * 8·127 each) add up without overflow.
 */
public interface IntegerRows {
    /** Whether blocks have offsets. */
    boolean intOffsets();

    /**
     * Writes rows {@code row} … {@code row + count − 1}, row row + i from q[qOffset + i·qStride] and
     * scales[gOffset + i·gStride] on: q[… + p] for the column at stored position p ({@link
     * WeightTensor#storedOrder()}), and for each block b in column order scales[… + b] and, if the format has them,
     * offsets[… + b]. Rows stored together are decoded in one pass over their data.
     */
    void decodeRowsInt(int row, int count, short[] q, int qOffset, int qStride, float[] scales, float[] offsets,
                       int gOffset, int gStride);
}
