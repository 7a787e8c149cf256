package dev.nemotron4j.tensor;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
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
    /** Shorts with one lane per float lane: a load of them widened to ints fills an int vector. */
    static final VectorSpecies<Short> S = L >= 4 ? VectorSpecies.of(short.class, VectorShape.forBitSize(L * 16))
            : ShortVector.SPECIES_64;
    /** Shorts of a full vector: the lanes of the packed formats, one block per lane, {@code 2·L} of them. */
    static final VectorSpecies<Short> S_FULL = VectorSpecies.of(short.class, F.vectorShape());
    /** Bytes with one lane per {@link #S_FULL} lane. */
    static final VectorSpecies<Byte> B_HALF = VectorSpecies.of(byte.class, VectorShape.forBitSize(2 * L * 8));
    /**
     * Bytes with one lane per int lane of a full vector. Widening these to ints is one op; widening the second part
     * of {@link #B_HALF} bytes to ints ran 5× slower (a row of packed Q4_0 decoded at 2.3 instead of 12.8 G values/s).
     */
    static final VectorSpecies<Byte> B_QUARTER = VectorSpecies.of(byte.class, VectorShape.forBitSize(L * 8));
    /** 0, 1, …, L-1: per-lane bit positions for the packed high bits of Q5_0/Q5_1. */
    static final IntVector LANE = IntVector.zero(I).addIndex(1);

    static final ValueLayout.OfShort LE_SHORT = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfInt LE_INT = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfLong LE_LONG = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

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
     * Finite IEEE half-precision values held in the high 16 bits of each lane, to floats 2⁻¹¹² times their value, in
     * two ops: the arithmetic shift puts exponent and mantissa where a float has them (the sign stays at bit 31) and
     * the mask clears the sign copies in between. A caller multiplies by {@link #HALF_REBIAS} once, per value or per
     * sum; a subnormal half comes out as a subnormal float, which that multiply makes normal, exactly. Infinities
     * come out as ±65536 and NaNs as finite values of that size: right for weights, which are finite in a working
     * model, and for the half-float KV cache, where a key or value beyond the half range is read back saturated.
     */
    static FloatVector highHalfUnscaled(IntVector high) {
        return high.lanewise(VectorOperators.ASHR, 3).and(HALF_MASK).reinterpretAsFloats();
    }

    /** Sign, exponent and mantissa bits of a half shifted as {@link #highHalfUnscaled} shifts it. */
    static final int HALF_MASK = 0x8FFFE000;

    /** 2¹¹², what {@link #highHalfUnscaled} leaves out. */
    static final float HALF_REBIAS = 0x1p112f;

    /**
     * {@link #highHalfUnscaled} for halves sign-extended into whole lanes (as a widening load leaves them), also two
     * ops: the shift moves exponent and mantissa into place and the sign's copies above them out of the lane.
     */
    static FloatVector widenedHalfUnscaled(IntVector widened) {
        return widened.lanewise(VectorOperators.LSHL, 13).and(HALF_MASK).reinterpretAsFloats();
    }

    /** {@link #highHalfUnscaled} with the rebias applied: the halves' values. */
    static FloatVector highHalfToFloat(IntVector high) {
        return highHalfUnscaled(high).mul(HALF_REBIAS);
    }

    static FloatVector toFloats(IntVector v) {
        return (FloatVector) v.convert(VectorOperators.I2F, 0);
    }

    /** Bit {@code bit[lane]} of {@code bits}, moved to bit 4: the fifth bit of a Q5 value. */
    static IntVector highBit(IntVector bits, IntVector bit) {
        return bits.lanewise(VectorOperators.LSHR, bit).and(1).lanewise(VectorOperators.LSHL, 4);
    }
}
