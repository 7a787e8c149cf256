package dev.nemotron4j.formats;

import dev.nemotron4j.tensor.GGMLType;
import dev.nemotron4j.tensor.WeightTensor;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;

/**
 * One tensor of a model file: its name, element type, shape and bytes (a slice of the mapped file, never a copy).
 * The shape is outermost-first as in PyTorch/safetensors: an HF linear weight is {@code [out, in]}. GGUF lists
 * dimensions innermost-first, so its reader reverses them; the bytes are the same row-major matrix either way.
 */
public record TensorEntry(String name, GGMLType type, long[] shape, MemorySegment data) {

    public long elementCount() {
        long n = 1;
        for (long d : shape) {
            n = Math.multiplyExact(n, d);
        }
        return n;
    }

    /** Length of the innermost dimension: the row length of a matrix. */
    public long rowLength() {
        return shape.length == 0 ? 1 : shape[shape.length - 1];
    }

    /** The tensor as a matrix of {@code elementCount / rowLength} rows; a vector becomes one row. */
    public WeightTensor asMatrix() {
        long cols = rowLength();
        long rows = cols == 0 ? 0 : elementCount() / cols;
        if (rows > Integer.MAX_VALUE || cols > Integer.MAX_VALUE) {
            throw new ModelFormatException("tensor '" + name + "' of shape " + Arrays.toString(shape) + " is too large");
        }
        return WeightTensor.of(type, data, (int) rows, (int) cols);
    }

    /** All elements as floats; meant for small tensors (norms, biases). */
    public float[] toFloatArray() {
        return asMatrix().toFloatArray();
    }

    public String shapeString() {
        return Arrays.toString(shape);
    }
}
