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
import static dev.nemotron4j.tensor.Simd.S;
import static dev.nemotron4j.tensor.Simd.S_PARTS;

/**
 * bfloat16, little-endian, 2 bytes per element: the upper 16 bits of an IEEE float (1 sign, 8 exponent, 7 mantissa
 * bits), so a value is {@code intBitsToFloat(bits << 16)}.
 */
public final class BF16Tensor extends WeightTensor {

    public BF16Tensor(MemorySegment data, int rows, int cols) {
        super(data, rows, cols);
    }

    @Override
    public GGMLType type() {
        return GGMLType.BF16;
    }

    private float at(long offset) {
        return Float.intBitsToFloat(data.get(LE_SHORT, offset) << 16);
    }

    @Override
    public float dot(int row, float[] x, int xOffset) {
        long base = rowOffset(row);
        int upper = S.loopBound(cols);
        FloatVector acc = FloatVector.zero(F);
        int j = 0;
        for (; j < upper; j += S.length()) {
            ShortVector h = ShortVector.fromMemorySegment(S, data, base + 2L * j, ByteOrder.LITTLE_ENDIAN);
            for (int p = 0; p < S_PARTS; p++) {
                FloatVector w = ((IntVector) h.convertShape(VectorOperators.S2I, I, p))
                        .lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
                acc = w.fma(FloatVector.fromArray(F, x, xOffset + j + p * L), acc);
            }
        }
        float sum = acc.reduceLanes(VectorOperators.ADD);
        for (; j < cols; j++) {
            sum += at(base + 2L * j) * x[xOffset + j];
        }
        return sum;
    }

    @Override
    public float dotScalar(int row, float[] x, int xOffset) {
        long base = rowOffset(row);
        float sum = 0f;
        for (int j = 0; j < cols; j++) {
            sum += at(base + 2L * j) * x[xOffset + j];
        }
        return sum;
    }

    @Override
    public void dequantizeRow(int row, float[] out, int outOffset) {
        long base = rowOffset(row);
        for (int j = 0; j < cols; j++) {
            out[outOffset + j] = at(base + 2L * j);
        }
    }

    /** A float rounded to bfloat16 bits, round to nearest even; NaN stays a quiet NaN (ggml/PyTorch rule). */
    public static short fromFloat(float v) {
        int bits = Float.floatToRawIntBits(v);
        if (Float.isNaN(v)) {
            return (short) ((bits >>> 16) | 64);
        }
        return (short) ((bits + 0x7fff + ((bits >>> 16) & 1)) >>> 16);
    }

    /** Writes {@code n} values as bfloat16 at {@code dst[dstOffset…]}. */
    public static void quantize(float[] src, int srcOffset, int n, MemorySegment dst, long dstOffset) {
        for (int j = 0; j < n; j++) {
            dst.set(LE_SHORT, dstOffset + 2L * j, fromFloat(src[srcOffset + j]));
        }
    }
}
