package dev.nemotron4j.tensor;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorShuffle;

import java.lang.foreign.MemorySegment;

import static dev.nemotron4j.tensor.Simd.F;
import static dev.nemotron4j.tensor.Simd.L;
import static dev.nemotron4j.tensor.Simd.LE_SHORT;

/** IEEE 754 half-precision floats, little-endian, 2 bytes per element (1 sign, 5 exponent, 10 mantissa bits). */
public final class F16Tensor extends HalfFloatTensor {

    public F16Tensor(MemorySegment data, int rows, int cols) {
        super(data, rows, cols);
    }

    @Override
    public GGMLType type() {
        return GGMLType.F16;
    }

    /**
     * Finite halves held in the high 16 bits of each lane, as floats ({@link Simd#highHalfToFloat}): for code outside
     * the weight formats that keeps halves of its own, such as the half-float KV cache.
     */
    public static FloatVector highHalvesToFloats(IntVector high) {
        return Simd.highHalfToFloat(high);
    }

    @Override
    float value(long rowOffset, int j) {
        return Float.float16ToFloat(data.get(LE_SHORT, rowOffset + 2L * j));
    }

    /**
     * The 2¹¹² rebias of {@link Simd#widenedHalfUnscaled} multiplies the sum once instead of every value. One
     * accumulator: two (an FMA chain half as long) streamed from memory at 21–23 against 29–31 GB/s (2 threads).
     */
    @Override
    float vectorDot(int row, float[] x, int xOffset) {
        long base = rowOffset(row);
        FloatVector acc = FloatVector.zero(F);
        for (int j = 0; j < vectorCols(); j += L) {
            acc = Simd.widenedHalfUnscaled(widened(base + 2L * j)).fma(FloatVector.fromArray(F, x, xOffset + j), acc);
        }
        for (VectorShuffle<Float> halving : VectorMath.HALVINGS) {
            acc = acc.add(acc.rearrange(halving));
        }
        return acc.lane(0) * Simd.HALF_REBIAS;
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
            a0 = Simd.widenedHalfUnscaled(widened(b0 + 2L * j)).fma(v, a0);
            a1 = Simd.widenedHalfUnscaled(widened(b1 + 2L * j)).fma(v, a1);
            a2 = Simd.widenedHalfUnscaled(widened(b2 + 2L * j)).fma(v, a2);
            a3 = Simd.widenedHalfUnscaled(widened(b3 + 2L * j)).fma(v, a3);
        }
        for (VectorShuffle<Float> halving : VectorMath.HALVINGS) {
            a0 = a0.add(a0.rearrange(halving));
            a1 = a1.add(a1.rearrange(halving));
            a2 = a2.add(a2.rearrange(halving));
            a3 = a3.add(a3.rearrange(halving));
        }
        out[outOffset + row] = a0.lane(0) * Simd.HALF_REBIAS;
        out[outOffset + row + 1] = a1.lane(0) * Simd.HALF_REBIAS;
        out[outOffset + row + 2] = a2.lane(0) * Simd.HALF_REBIAS;
        out[outOffset + row + 3] = a3.lane(0) * Simd.HALF_REBIAS;
    }

    /** Writes {@code n} values as half floats (round to nearest even, as ggml's converter) at dst[dstOffset…]. */
    public static void quantize(float[] src, int srcOffset, int n, MemorySegment dst, long dstOffset) {
        for (int j = 0; j < n; j++) {
            dst.set(LE_SHORT, dstOffset + 2L * j, Float.floatToFloat16(src[srcOffset + j]));
        }
    }
}
