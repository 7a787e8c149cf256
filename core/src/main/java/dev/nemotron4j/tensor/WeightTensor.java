package dev.nemotron4j.tensor;

import dev.nemotron4j.formats.ModelFormatException;

import java.lang.foreign.MemorySegment;

/**
 * A read-only weight matrix of {@code rows × cols} elements, row-major, stored in one of the GGML block formats and
 * usually backed by a memory-mapped file. Rows are quantized independently along {@code cols}, so the unit of work is a
 * row: {@code dot(row, x)} is y[row] of y = W·x. One subclass per storage format; each keeps a scalar
 * {@link #dotScalar reference} next to its Vector API {@link #dot}.
 */
public abstract class WeightTensor {
    protected final MemorySegment data;
    protected final int rows;
    protected final int cols;
    protected final long rowBytes;

    protected WeightTensor(MemorySegment data, int rows, int cols) {
        this(data, rows, cols, -1);
    }

    /** A tensor whose rows take {@code rowBytes} each, or as many as its {@link #type()} stores them in if −1. */
    protected WeightTensor(MemorySegment data, int rows, int cols, long rowBytes) {
        GGMLType type = type();
        if (cols % type.blockSize != 0) {
            throw new ModelFormatException(type + " tensor rows must be a multiple of " + type.blockSize
                    + " elements, got " + cols);
        }
        this.rowBytes = rowBytes >= 0 ? rowBytes : type.byteSize(cols);
        if (data.byteSize() < this.rowBytes * rows) {
            throw new ModelFormatException(type + " tensor of " + rows + "×" + cols + " needs " + this.rowBytes * rows
                    + " bytes, file has " + data.byteSize());
        }
        this.data = data;
        this.rows = rows;
        this.cols = cols;
    }

    public abstract GGMLType type();

    /** Σ_j W[row][j] · x[xOffset + j] over the {@code cols} elements of the row (Vector API). */
    public abstract float dot(int row, float[] x, int xOffset);

    /** Scalar reference of {@link #dot}; the tests hold the two together. */
    public abstract float dotScalar(int row, float[] x, int xOffset);

    /**
     * out[t·rows + r] = W[r]·x_t for rows r in [from, to) and the {@code n} vectors x_t = x[t·cols …], one dot product
     * each: the path for one or a few vectors (more go through {@code kernels.Gemm}, which decodes each row once).
     */
    public void matmul(float[] x, int n, float[] out, int from, int to) {
        for (int r = from; r < to; r++) {
            for (int t = 0; t < n; t++) {
                out[t * rows + r] = dot(r, x, t * cols);
            }
        }
    }

    /** Writes the {@code cols} float values of {@code row} to {@code out[outOffset…]}. */
    public abstract void dequantizeRow(int row, float[] out, int outOffset);

    /**
     * Writes the values of {@code row} in the order the format stores them, {@link #storedOrder()}: cheaper than
     * column order for formats that interleave blocks. A dot product with x taken in the same order is the same.
     */
    public void dequantizeRowStored(int row, float[] out, int outOffset) {
        dequantizeRow(row, out, outOffset);
    }

    /** The column each position of {@link #dequantizeRowStored} holds, or null when that is column order. */
    public int[] storedOrder() {
        return null;
    }

    public final int rows() {
        return rows;
    }

    public final int cols() {
        return cols;
    }

    public final MemorySegment data() {
        return data;
    }

    /** Byte offset of the start of {@code row} in {@link #data}. */
    protected final long rowOffset(int row) {
        return row * rowBytes;
    }

    /** The whole tensor as floats (for small tensors such as norms and for tests). */
    public float[] toFloatArray() {
        float[] out = new float[Math.multiplyExact(rows, cols)];
        for (int r = 0; r < rows; r++) {
            dequantizeRow(r, out, r * cols);
        }
        return out;
    }

    /** A view of {@code data} as a matrix of the given type. */
    public static WeightTensor of(GGMLType type, MemorySegment data, int rows, int cols) {
        return switch (type) {
            case F32 -> new F32Tensor(data, rows, cols);
            case F16 -> new F16Tensor(data, rows, cols);
            case BF16 -> new BF16Tensor(data, rows, cols);
            case Q8_0 -> new Q8_0Tensor(data, rows, cols);
            case Q4_0 -> new Q4_0Tensor(data, rows, cols);
            case Q4_1 -> new Q4_1Tensor(data, rows, cols);
            case Q5_0 -> new Q5_0Tensor(data, rows, cols);
            case Q5_1 -> new Q5_1Tensor(data, rows, cols);
            case Q4_K -> new Q4_KTensor(data, rows, cols);
            case Q5_K -> new Q5_KTensor(data, rows, cols);
            case Q6_K -> new Q6_KTensor(data, rows, cols);
            default -> throw new ModelFormatException("tensor type " + type + " is not supported (supported: "
                    + "F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q4_K, Q5_K, Q6_K)");
        };
    }
}
