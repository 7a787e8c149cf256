package dev.nemotron4j.tensor;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShuffle;

import java.lang.foreign.MemorySegment;

import static dev.nemotron4j.tensor.Simd.F;
import static dev.nemotron4j.tensor.Simd.L;
import static dev.nemotron4j.tensor.Simd.LE_SHORT;

/**
 * bfloat16, little-endian, 2 bytes per element: the upper 16 bits of an IEEE float (1 sign, 8 exponent, 7 mantissa
 * bits), so a value is {@code intBitsToFloat(bits << 16)}.
 */
public final class BF16Tensor extends HalfFloatTensor {

    public BF16Tensor(MemorySegment data, int rows, int cols) {
        super(data, rows, cols);
    }

    @Override
    public GGMLType type() {
        return GGMLType.BF16;
    }

    @Override
    float value(long rowOffset, int j) {
        return Float.intBitsToFloat(data.get(LE_SHORT, rowOffset + 2L * j) << 16);
    }

    @Override
    float vectorDot(int row, float[] x, int xOffset) {
        long base = rowOffset(row);
        FloatVector acc = FloatVector.zero(F);
        for (int j = 0; j < vectorCols(); j += L) {
            acc = toFloats(widened(base + 2L * j)).fma(FloatVector.fromArray(F, x, xOffset + j), acc);
        }
        for (VectorShuffle<Float> halving : VectorMath.HALVINGS) {
            acc = acc.add(acc.rearrange(halving));
        }
        return acc.lane(0);
    }

    @Override
    void vectorDots4(int row, float[] x, int xOffset, float[] out, int outOffset) {
        long b0 = rowOffset(row);
        long b1 = rowOffset(row + 1);
        long b2 = rowOffset(row + 2);
        long b3 = rowOffset(row + 3);
        FloatVector a0 = FloatVector.zero(F);
        FloatVector a1 = a0;
        FloatVector a2 = a0;
        FloatVector a3 = a0;
        for (int j = 0; j < vectorCols(); j += L) {
            FloatVector v = FloatVector.fromArray(F, x, xOffset + j);
            a0 = toFloats(widened(b0 + 2L * j)).fma(v, a0);
            a1 = toFloats(widened(b1 + 2L * j)).fma(v, a1);
            a2 = toFloats(widened(b2 + 2L * j)).fma(v, a2);
            a3 = toFloats(widened(b3 + 2L * j)).fma(v, a3);
        }
        for (VectorShuffle<Float> halving : VectorMath.HALVINGS) {
            a0 = a0.add(a0.rearrange(halving));
            a1 = a1.add(a1.rearrange(halving));
            a2 = a2.add(a2.rearrange(halving));
            a3 = a3.add(a3.rearrange(halving));
        }
        out[outOffset + row] = a0.lane(0);
        out[outOffset + row + 1] = a1.lane(0);
        out[outOffset + row + 2] = a2.lane(0);
        out[outOffset + row + 3] = a3.lane(0);
    }

    /** bfloat16 bits sign-extended into whole lanes, as floats: the shift drops the sign's copies. */
    private static FloatVector toFloats(IntVector widened) {
        return widened.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
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
