package dev.nemotron4j.tensor;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

import static dev.nemotron4j.tensor.Simd.B_HALF;
import static dev.nemotron4j.tensor.Simd.F;
import static dev.nemotron4j.tensor.Simd.I;
import static dev.nemotron4j.tensor.Simd.L;
import static dev.nemotron4j.tensor.Simd.S_FULL;

/**
 * {@link Q6_KTensor Q6_K} {@link PackedTensor packed} for decode. Each 32 values of a super-block become a block
 * of 28 bytes: f16 scales A = d·scales[2i] (values 0–15) and B = d·scales[2i+1] (values 16–31), rounded to f16 (2⁻¹²
 * relative), and 24 bytes of 6-bit numbers q; a value is scale · (q − 32). A group of LANES blocks keeps the A scales
 * and the B scales in pairs (as {@link PackedTensor} describes), then 12 steps of LANES shorts: per octet o of a block
 * (values 8o…8o+7) three shorts hold q0 | q1≪6 | (q2 mod 16)≪12, q3 | q4≪6 | (q5 mod 16)≪12 and
 * q6 | q7≪6 | (q2÷16)≪12 | (q5÷16)≪14, so each q comes out of a short load in one to four ops, with no widening.
 * Tail blocks (after the last whole group) keep a plainer form: A, B, 16 bytes of low nibbles (value j and j + 16 in
 * byte j), 8 bytes of high bits (values i, i+8, i+16, i+24 at bits 0, 2, 4, 6 of byte i).
 *
 * <p>Decode multiplies q by the 8-bit activations in 16-bit lanes and adds up each octet there, from −32·Σx (see
 * {@link #groupsDot}); the two octets of a half are then widened, added as ints and finished with the half's scales.
 */
public final class Q6_KPackedTensor extends PackedTensor {
    private static final int BLOCK_BYTES = 28;
    private static final int SOURCE_BYTES = 210;
    private static final VectorSpecies<Short> S8 = ShortVector.SPECIES_128;
    private static final VectorSpecies<Byte> B8 = ByteVector.SPECIES_64;

    private Q6_KPackedTensor(MemorySegment data, int rows, int cols) {
        super(data, rows, cols, BLOCK_BYTES, 4, 0);
    }

    @Override
    public GGMLType type() {
        return GGMLType.Q6_K;
    }

    /** A view of bytes {@link #pack} wrote. */
    public static Q6_KPackedTensor of(MemorySegment data, int rows, int cols) {
        return new Q6_KPackedTensor(data, rows, cols);
    }

    /** Bytes the packed form of a rows × cols matrix takes. */
    public static long byteSize(int rows, int cols) {
        return (long) rows * (cols / QK) * BLOCK_BYTES;
    }

    /**
     * Converts rows [from, to) of {@code source} and packs them into {@code dst}. Returns false if a scale multiplied
     * by its super-block's d does not fit an f16 (d above 65504/128, which no trained model has); the packed rows are
     * then not usable.
     */
    public static boolean pack(Q6_KTensor source, MemorySegment dst, int from, int to) {
        int cols = source.cols();
        int blocks = cols / QK;
        int lanes = groups(cols) * LANES;
        byte[] q6k = new byte[cols / 256 * SOURCE_BYTES];
        byte[] out = new byte[blocks * BLOCK_BYTES];
        long[] q = new long[4];
        boolean fits = true;
        for (int r = from; r < to; r++) {
            MemorySegment.copy(source.data(), ValueLayout.JAVA_BYTE, (long) r * q6k.length, q6k, 0, q6k.length);
            for (int b = 0; b < blocks; b++) {
                int superBlock = b / 8 * SOURCE_BYTES;
                float d = Float.float16ToFloat((short) BYTES_AS_SHORTS.get(q6k, superBlock + 208));
                fits &= Math.abs(d) * 128 <= 65504f;
                int scales = superBlock + 192 + 2 * (b % 8);
                short a = Float.floatToFloat16(d * q6k[scales]);
                short bScale = Float.floatToFloat16(d * q6k[scales + 1]);
                decode(q6k, superBlock, b % 8, q);
                if (b < lanes) {
                    toLane(out, b, a, bScale, q);
                } else {
                    toTailBlock(out, b * BLOCK_BYTES, a, bScale, q);
                }
            }
            MemorySegment.copy(out, 0, dst, ValueLayout.JAVA_BYTE, (long) r * out.length, out.length);
        }
        return fits;
    }

    /**
     * The 6-bit numbers of block k (values 32k…32k+31) of the Q6_K super-block at {@code block}, eight at a time:
     * byte i of {@code q[o]} is value 8o + i.
     */
    private static void decode(byte[] q6k, int block, int k, long[] q) {
        int half = k / 4;
        int run = k % 4;
        int ql = block + 64 * half + (run % 2) * 32;
        int qh = block + 128 + 32 * half;
        for (int o = 0; o < 4; o++) {
            long low = (long) BYTES_AS_LONGS.get(q6k, ql + 8 * o) >>> (4 * (run / 2)) & 0x0F0F0F0F0F0F0F0FL;
            long high = (long) BYTES_AS_LONGS.get(q6k, qh + 8 * o) >>> (2 * run) & 0x0303030303030303L;
            q[o] = low | high << 4;
        }
    }

    /** Value v of a block {@link #decode}d into {@code q}. */
    private static int value(long[] q, int v) {
        return (int) (q[v / 8] >>> (8 * (v % 8))) & 63;
    }

    /** Block b as lane b mod LANES of its group: scales, then its 12 shorts into the 12 steps. */
    private static void toLane(byte[] out, int b, short a, short bScale, long[] q) {
        int group = b / LANES * LANES * BLOCK_BYTES;
        int k = b % LANES;
        BYTES_AS_SHORTS.set(out, group + scaleOffset(k), a);
        BYTES_AS_SHORTS.set(out, group + 2 * LANES + scaleOffset(k), bScale);
        for (int o = 0; o < 4; o++) {
            long w = q[o];
            int q2 = (int) (w >>> 16) & 63;
            int q5 = (int) (w >>> 40) & 63;
            int step = group + 4 * LANES + 6 * LANES * o + 2 * k;
            BYTES_AS_SHORTS.set(out, step, (short) ((int) w & 63 | ((int) (w >>> 8) & 63) << 6 | (q2 & 15) << 12));
            BYTES_AS_SHORTS.set(out, step + 2 * LANES,
                    (short) ((int) (w >>> 24) & 63 | ((int) (w >>> 32) & 63) << 6 | (q5 & 15) << 12));
            BYTES_AS_SHORTS.set(out, step + 4 * LANES, (short) ((int) (w >>> 48) & 63 | ((int) (w >>> 56) & 63) << 6
                    | (q2 >>> 4) << 12 | (q5 >>> 4) << 14));
        }
    }

    /** Block b in the tail form at {@code o}. */
    private static void toTailBlock(byte[] out, int o, short a, short bScale, long[] q) {
        BYTES_AS_SHORTS.set(out, o, a);
        BYTES_AS_SHORTS.set(out, o + 2, bScale);
        for (int j = 0; j < 16; j++) {
            out[o + 4 + j] = (byte) ((value(q, j) & 0x0f) | (value(q, j + 16) & 0x0f) << 4);
        }
        for (int i = 0; i < 8; i++) {
            out[o + 20 + i] = (byte) (value(q, i) >>> 4 | (value(q, i + 8) >>> 4) << 2
                    | (value(q, i + 16) >>> 4) << 4 | (value(q, i + 24) >>> 4) << 6);
        }
    }

    /**
     * Per octet (values 8o…8o+7 of the group's blocks), the sums of (q − 32)·x, 8 products each, in 16-bit lanes:
     * each starts at {@link Q8Activations#q6Offsets −32·Σx} and adds q·x, wrapping; the result lies within ±32512, so
     * the wrapped sum is exact. It is then widened, and the two octets of a half (values 0–15 or 16–31, one scale)
     * are added as ints and taken to float with that scale in the same pass: one float finish per half instead of one
     * per octet (65536 × 3072 from memory, one thread: 47.1 → 43.1 ms). A pass per quartet with a float finish per row
     * read 9216-wide rows at 60 % of the speed.
     *
     * <p>One loop over the row's octets, not groups × halves × octets: that nest's inner loops of two turns kept the
     * range checks of the sixteen activation loads inside the group loop, about as many instructions as the octets'
     * own (one thread, data in L2: 4–12 % faster so, in alternating runs). The activation loads and the scale decoding
     * are written out: past C2's node budget for inlining, a helper of ours stays a call and returns its vector boxed
     * (2.5× slower), while the Vector API's own methods are still inlined.
     */
    @Override
    float groupsDot(int row, Q8Activations x, int t) {
        int octets = 4 * groups(cols);
        int blocks = cols / QK;
        byte[] values = x.values;
        short[] offsets = x.q6Offsets;
        FloatVector acc0 = FloatVector.zero(F);
        FloatVector acc1 = acc0;
        // The current half's int sums, for blocks 0 … L−1 and L … LANES−1 of the group as acc0 and acc1 take them.
        IntVector ints0 = IntVector.zero(I);
        IntVector ints1 = ints0;
        for (int s = 0; s < octets; s++) {
            int g = s >> 2;
            int o = s & 3;
            long group = group(row, g);
            long at = group + 4L * LANES + 6L * o * LANES;
            int xo = t * cols + s * 8 * LANES;
            ShortVector w0 = ShortVector.fromMemorySegment(S_FULL, data, at, ByteOrder.LITTLE_ENDIAN);
            ShortVector w1 = ShortVector.fromMemorySegment(S_FULL, data, at + 2L * LANES, ByteOrder.LITTLE_ENDIAN);
            ShortVector w2 = ShortVector.fromMemorySegment(S_FULL, data, at + 4L * LANES, ByteOrder.LITTLE_ENDIAN);
            ShortVector x0 = (ShortVector) ByteVector.fromArray(B_HALF, values, xo)
                    .convertShape(VectorOperators.B2S, S_FULL, 0);
            ShortVector x1 = (ShortVector) ByteVector.fromArray(B_HALF, values, xo + LANES)
                    .convertShape(VectorOperators.B2S, S_FULL, 0);
            ShortVector x2 = (ShortVector) ByteVector.fromArray(B_HALF, values, xo + 2 * LANES)
                    .convertShape(VectorOperators.B2S, S_FULL, 0);
            ShortVector x3 = (ShortVector) ByteVector.fromArray(B_HALF, values, xo + 3 * LANES)
                    .convertShape(VectorOperators.B2S, S_FULL, 0);
            ShortVector x4 = (ShortVector) ByteVector.fromArray(B_HALF, values, xo + 4 * LANES)
                    .convertShape(VectorOperators.B2S, S_FULL, 0);
            ShortVector x5 = (ShortVector) ByteVector.fromArray(B_HALF, values, xo + 5 * LANES)
                    .convertShape(VectorOperators.B2S, S_FULL, 0);
            ShortVector x6 = (ShortVector) ByteVector.fromArray(B_HALF, values, xo + 6 * LANES)
                    .convertShape(VectorOperators.B2S, S_FULL, 0);
            ShortVector x7 = (ShortVector) ByteVector.fromArray(B_HALF, values, xo + 7 * LANES)
                    .convertShape(VectorOperators.B2S, S_FULL, 0);
            ShortVector octet = ShortVector.fromArray(S_FULL, offsets, (4 * t + o) * blocks + g * LANES)
                    .add(w0.and((short) 63).mul(x0))
                    .add(w0.lanewise(VectorOperators.LSHR, 6).and((short) 63).mul(x1))
                    .add(w0.lanewise(VectorOperators.LSHR, 12)
                            .or(w2.lanewise(VectorOperators.LSHR, 8).and((short) 0x30)).mul(x2))
                    .add(w1.and((short) 63).mul(x3))
                    .add(w1.lanewise(VectorOperators.LSHR, 6).and((short) 63).mul(x4))
                    .add(w1.lanewise(VectorOperators.LSHR, 12)
                            .or(w2.lanewise(VectorOperators.LSHR, 10).and((short) 0x30)).mul(x5))
                    .add(w2.and((short) 63).mul(x6))
                    .add(w2.lanewise(VectorOperators.LSHR, 6).and((short) 63).mul(x7));
            ints0 = ints0.add(octet.convertShape(VectorOperators.S2I, I, 0));
            ints1 = ints1.add(octet.convertShape(VectorOperators.S2I, I, 1));
            if ((o & 1) == 0) {
                continue;
            }
            IntVector pairs = IntVector.fromMemorySegment(I, data, group + 2L * LANES * (o >> 1),
                    ByteOrder.LITTLE_ENDIAN);
            FloatVector d0 = pairs.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 3)
                    .and(Simd.HALF_MASK).reinterpretAsFloats().mul(Simd.HALF_REBIAS);
            FloatVector d1 = pairs.lanewise(VectorOperators.ASHR, 3).and(Simd.HALF_MASK).reinterpretAsFloats()
                    .mul(Simd.HALF_REBIAS);
            int xs = t * blocks + g * LANES;
            acc0 = ((FloatVector) ints0.convert(VectorOperators.I2F, 0))
                    .fma(d0.mul(FloatVector.fromArray(F, x.scales, xs)), acc0);
            acc1 = ((FloatVector) ints1.convert(VectorOperators.I2F, 0))
                    .fma(d1.mul(FloatVector.fromArray(F, x.scales, xs + L)), acc1);
            ints0 = IntVector.zero(I);
            ints1 = ints0;
        }
        acc0 = acc0.add(acc1);
        for (VectorShuffle<Float> halving : VectorMath.HALVINGS) {
            acc0 = acc0.add(acc0.rearrange(halving));
        }
        return acc0.lane(0);
    }

    @Override
    float tailDot(int row, Q8Activations x, int t) {
        int blocks = cols / QK;
        float tail = 0f;
        for (int b = groups(cols) * LANES; b < blocks; b++) {
            long block = tailBlock(row, b);
            ShortVector first = eight(block + 4);
            ShortVector second = eight(block + 12);
            ShortVector high = eight(block + 20);
            int xb = x.index(t, b * QK);
            ShortVector pairsA = first.and((short) 0x0f).add(high.lanewise(VectorOperators.LSHL, 4).and((short) 0x30))
                    .sub((short) 32).mul(activations8(x.values, xb))
                    .add(second.and((short) 0x0f).add(high.lanewise(VectorOperators.LSHL, 2).and((short) 0x30))
                            .sub((short) 32).mul(activations8(x.values, xb + 8)));
            ShortVector pairsB = first.lanewise(VectorOperators.LSHR, 4).and((short) 0x0f).add(high.and((short) 0x30))
                    .sub((short) 32).mul(activations8(x.values, xb + 16))
                    .add(second.lanewise(VectorOperators.LSHR, 4).and((short) 0x0f)
                            .add(high.lanewise(VectorOperators.LSHR, 2).and((short) 0x30))
                            .sub((short) 32).mul(activations8(x.values, xb + 24)));
            int sumA = ((IntVector) pairsA.convertShape(VectorOperators.S2I, IntVector.SPECIES_256, 0))
                    .reduceLanes(VectorOperators.ADD);
            int sumB = ((IntVector) pairsB.convertShape(VectorOperators.S2I, IntVector.SPECIES_256, 0))
                    .reduceLanes(VectorOperators.ADD);
            tail += x.scale(t, b) * (blockHalf(row, b, 0) * sumA + blockHalf(row, b, 1) * sumB);
        }
        return tail;
    }

    /** Eight bytes at {@code offset} as shorts (sign-extended: callers mask). */
    private ShortVector eight(long offset) {
        return (ShortVector) ByteVector.fromMemorySegment(B8, data, offset, ByteOrder.LITTLE_ENDIAN)
                .convertShape(VectorOperators.B2S, S8, 0);
    }

    private static ShortVector activations8(byte[] values, int offset) {
        return (ShortVector) ByteVector.fromArray(B8, values, offset).convertShape(VectorOperators.B2S, S8, 0);
    }

    @Override
    float dotScalar(int row, Q8Activations x, int t) {
        float sum = 0f;
        for (int b = 0; b < cols / QK; b++) {
            int sumA = 0;
            int sumB = 0;
            for (int j = 0; j < 16; j++) {
                sumA += (quant(row, b, j) - 32) * x.value(t, b * QK + j);
                sumB += (quant(row, b, j + 16) - 32) * x.value(t, b * QK + j + 16);
            }
            sum += x.scale(t, b) * (blockHalf(row, b, 0) * sumA + blockHalf(row, b, 1) * sumB);
        }
        return sum;
    }

    /** The 6-bit number q (0–63) of value j of block b, for the scalar paths. */
    private int quant(int row, int b, int j) {
        if (inTail(b)) {
            int low = sourceByte(row, b, j % 16) >>> (j < 16 ? 0 : 4) & 0x0f;
            return low | (sourceByte(row, b, 16 + j % 8) >>> (2 * (j / 8)) & 3) << 4;
        }
        int o = j / 8;
        int i = j % 8;
        int[] w = new int[3];
        for (int m = 0; m < 3; m++) {
            long at = group(row, b / LANES) + 4L * LANES + 2L * LANES * (3 * o + m) + 2L * (b % LANES);
            w[m] = data.get(Simd.LE_SHORT, at) & 0xffff;
        }
        return switch (i) {
            case 0, 3, 6 -> w[i / 3] & 63;
            case 1, 4, 7 -> w[i / 3] >>> 6 & 63;
            case 2 -> w[0] >>> 12 | (w[2] >>> 12 & 3) << 4;
            default -> w[1] >>> 12 | (w[2] >>> 14) << 4;
        };
    }

    /** Per-thread room for the eight values of an octet, as shorts, between their unpacking and their conversion. */
    private static final ThreadLocal<short[]> OCTET = ThreadLocal.withInitial(() -> new short[8 * LANES]);

    @Override
    public void dequantizeRowStored(int row, float[] out, int outOffset) {
        short[] octet = OCTET.get();
        int groups = groups(cols);
        for (int g = 0; g < groups; g++) {
            long group = group(row, g);
            for (int o = 0; o < 4; o++) {
                storeOctet(group, o, octet, out, outOffset + g * QK * LANES + 8 * o * LANES);
            }
        }
        for (int b = groups * LANES; b < cols / QK; b++) {
            dequantizeBlock(row, b, out, outOffset + b * QK);
        }
    }

    /**
     * Values 8o…8o+7 of the group's blocks as floats, value by value, LANES each, from {@code at}. The unpacked values
     * go through {@code octet} rather than an array of vectors, whose vectors would be boxed (90 MB per prompt
     * product of a 9216 × 3072 matrix on 256 vectors).
     */
    private void storeOctet(long group, int o, short[] octet, float[] out, int at) {
        long steps = group + 4L * LANES + 6L * o * LANES;
        ShortVector w0 = ShortVector.fromMemorySegment(S_FULL, data, steps, ByteOrder.LITTLE_ENDIAN);
        ShortVector w1 = ShortVector.fromMemorySegment(S_FULL, data, steps + 2L * LANES, ByteOrder.LITTLE_ENDIAN);
        ShortVector w2 = ShortVector.fromMemorySegment(S_FULL, data, steps + 4L * LANES, ByteOrder.LITTLE_ENDIAN);
        w0.and((short) 63).intoArray(octet, 0);
        w0.lanewise(VectorOperators.ASHR, 6).and((short) 63).intoArray(octet, LANES);
        w0.lanewise(VectorOperators.ASHR, 12).and((short) 15)
                .or(w2.lanewise(VectorOperators.ASHR, 8).and((short) 0x30)).intoArray(octet, 2 * LANES);
        w1.and((short) 63).intoArray(octet, 3 * LANES);
        w1.lanewise(VectorOperators.ASHR, 6).and((short) 63).intoArray(octet, 4 * LANES);
        w1.lanewise(VectorOperators.ASHR, 12).and((short) 15)
                .or(w2.lanewise(VectorOperators.ASHR, 10).and((short) 0x30)).intoArray(octet, 5 * LANES);
        w2.and((short) 63).intoArray(octet, 6 * LANES);
        w2.lanewise(VectorOperators.ASHR, 6).and((short) 63).intoArray(octet, 7 * LANES);
        IntVector pairs = IntVector.fromMemorySegment(I, data, group + 2L * LANES * (o / 2),
                ByteOrder.LITTLE_ENDIAN);
        FloatVector scale0 = Simd.highHalfToFloat(pairs.lanewise(VectorOperators.LSHL, 16));
        FloatVector scale1 = Simd.highHalfToFloat(pairs);
        for (int i = 0; i < 8; i++) {
            ShortVector centred = ShortVector.fromArray(S_FULL, octet, i * LANES).sub((short) 32);
            ((FloatVector) centred.convertShape(VectorOperators.S2I, I, 0).convert(VectorOperators.I2F, 0))
                    .mul(scale0).intoArray(out, at + i * LANES);
            ((FloatVector) centred.convertShape(VectorOperators.S2I, I, 1).convert(VectorOperators.I2F, 0))
                    .mul(scale1).intoArray(out, at + i * LANES + L);
        }
    }

    /** The same order as {@link Q8_0PackedTensor}'s: value j of every block of a group, then value j + 1. */
    @Override
    int[] storedOrder(int cols) {
        return valueOrder(cols);
    }

    @Override
    void dequantizeBlock(int row, int b, float[] out, int outOffset) {
        for (int j = 0; j < QK; j++) {
            out[outOffset + j] = blockHalf(row, b, j / 16) * (quant(row, b, j) - 32);
        }
    }
}
