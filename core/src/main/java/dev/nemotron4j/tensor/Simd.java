package dev.nemotron4j.tensor;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * Vector species and conversions shared by the block formats. Float vectors have {@code L} lanes (16 with AVX-512,
 * 8 with AVX2, 4 with NEON). Quantized bytes are loaded {@link #B} at a time, at least 8 and at most 16 so that any
 * block of 16 or 32 values is a whole number of loads, then widened to floats {@link #B_PARTS} vectors at a time.
 */
final class Simd {
    static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    static final VectorSpecies<Integer> I = F.withLanes(int.class);
    static final int L = F.length();
    static final VectorSpecies<Byte> B = L >= 8 ? VectorSpecies.of(byte.class, VectorShape.forBitSize(L * 8))
            : ByteVector.SPECIES_64;
    static final int B_PARTS = B.length() / L;
    static final VectorSpecies<Short> S = L >= 4 ? VectorSpecies.of(short.class, VectorShape.forBitSize(L * 16))
            : ShortVector.SPECIES_64;
    static final int S_PARTS = S.length() / L;
    /** 0, 1, …, L-1: per-lane bit positions for the packed high bits of Q5_0/Q5_1. */
    static final IntVector LANE = IntVector.zero(I).addIndex(1);

    static final ValueLayout.OfShort LE_SHORT = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfInt LE_INT = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private Simd() {
    }

    static float f16(MemorySegment s, long offset) {
        return Float.float16ToFloat(s.get(LE_SHORT, offset));
    }

    static void putF16(MemorySegment s, long offset, float v) {
        s.set(LE_SHORT, offset, Float.floatToFloat16(v));
    }

    static ByteVector bytes(MemorySegment s, long offset) {
        return ByteVector.fromMemorySegment(B, s, offset, ByteOrder.LITTLE_ENDIAN);
    }

    /** Lanes {@code part·L …} of signed bytes as floats. */
    static FloatVector toFloats(ByteVector v, int part) {
        return (FloatVector) v.convertShape(VectorOperators.B2F, F, part);
    }

    static IntVector toInts(ByteVector v, int part) {
        return (IntVector) v.convertShape(VectorOperators.B2I, I, part);
    }

    /**
     * IEEE half-precision bits (low 16 bits of each lane) to floats, exactly as {@link Float#float16ToFloat}. Normal
     * numbers are rebiased, subnormals computed as mantissa·2⁻²⁴ (avoiding slow denormal float arithmetic), inf/NaN
     * keep an all-ones exponent.
     */
    static FloatVector halfToFloat(IntVector h) {
        IntVector magnitude = h.and(0x7fff);
        IntVector shifted = magnitude.lanewise(VectorOperators.LSHL, 13);
        IntVector bits = shifted.add((127 - 15) << 23);
        bits = bits.blend(shifted.or(0x7f800000), magnitude.compare(VectorOperators.GE, 0x7c00));
        bits = bits.blend(bits.or(0x00400000), magnitude.compare(VectorOperators.GT, 0x7c00)); // NaNs come out quiet
        VectorMask<Integer> subnormal = magnitude.compare(VectorOperators.LT, 0x400);
        IntVector subnormalBits = ((FloatVector) magnitude.convert(VectorOperators.I2F, 0)).mul(0x1p-24f)
                .reinterpretAsInts();
        bits = bits.blend(subnormalBits, subnormal);
        return bits.or(h.and(0x8000).lanewise(VectorOperators.LSHL, 16)).reinterpretAsFloats();
    }

    /** Per-thread copy of a partial tile of vectors, padded with zero vectors to a whole tile. */
    private static final ThreadLocal<float[][]> TAIL = ThreadLocal.withInitial(() -> new float[1][0]);

    /** x_{from} … x_{n−1} (each {@code cols} floats) followed by zeros up to {@code tile} vectors. */
    static float[] paddedTail(float[] x, int n, int from, int cols, int tile) {
        float[][] holder = TAIL.get();
        if (holder[0].length < tile * cols) {
            holder[0] = new float[tile * cols];
        }
        float[] tail = holder[0];
        System.arraycopy(x, from * cols, tail, 0, (n - from) * cols);
        java.util.Arrays.fill(tail, (n - from) * cols, tile * cols, 0f);
        return tail;
    }

    /** out[(t0+k)·rows + row] = Σ lanes of a_k for the first {@code count} of eight sums. */
    static void storeSums(float[] out, int rows, int row, int t0, int count, FloatVector a0, FloatVector a1,
                          FloatVector a2, FloatVector a3, FloatVector a4, FloatVector a5, FloatVector a6,
                          FloatVector a7) {
        out[t0 * rows + row] = a0.reduceLanes(VectorOperators.ADD);
        if (count > 1) {
            out[(t0 + 1) * rows + row] = a1.reduceLanes(VectorOperators.ADD);
        }
        if (count > 2) {
            out[(t0 + 2) * rows + row] = a2.reduceLanes(VectorOperators.ADD);
        }
        if (count > 3) {
            out[(t0 + 3) * rows + row] = a3.reduceLanes(VectorOperators.ADD);
        }
        if (count > 4) {
            out[(t0 + 4) * rows + row] = a4.reduceLanes(VectorOperators.ADD);
        }
        if (count > 5) {
            out[(t0 + 5) * rows + row] = a5.reduceLanes(VectorOperators.ADD);
        }
        if (count > 6) {
            out[(t0 + 6) * rows + row] = a6.reduceLanes(VectorOperators.ADD);
        }
        if (count > 7) {
            out[(t0 + 7) * rows + row] = a7.reduceLanes(VectorOperators.ADD);
        }
    }

    static FloatVector toFloats(IntVector v) {
        return (FloatVector) v.convert(VectorOperators.I2F, 0);
    }

    /** Bit {@code bit[lane]} of {@code bits}, moved to bit 4: the fifth bit of a Q5 value. */
    static IntVector highBit(IntVector bits, IntVector bit) {
        return bits.lanewise(VectorOperators.LSHR, bit).and(1).lanewise(VectorOperators.LSHL, 4);
    }
}
