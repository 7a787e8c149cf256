package dev.nemotron4j.tensor;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
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
 * {@link Q5_KTensor Q5_K} {@link PackedTensor packed} for decode, 25 bytes per 32 values against Q5_K's 22. A value
 * of a block is d·scale·q − dmin·min with q in [0, 31]. A group of LANES blocks is the {@link KPackedTensor header}
 * (3 bytes per block), then 11 steps of LANES shorts: step m holds q of values 3m, 3m + 1 and 3m + 2 of each block
 * in bits 0–4, 5–9 and 10–14 (step 10 only values 30 and 31), so that each value comes out of a short load in one or
 * two ops, with no widening: three values in four ops. (Q4_K's nibbles plus a plane of high bits, 23 bytes, took
 * about three ops per value; JMH decode was 10 % slower.) Tail super-blocks take Q5_K's 176 bytes.
 *
 * <p>Decode multiplies q by the 8-bit activations in 16-bit lanes. Thirty-two products of up to 31·127 do not fit
 * 16 bits, so the sums are centred (q − 16, starting from {@link Q8Activations#q5Offsets}) and widened to ints after
 * values 0–14, 15–29 and 30–31, at most 15 values of at most 16·127 each.
 */
public final class Q5_KPackedTensor extends KPackedTensor {
    private static final int BLOCK_BYTES = 25;
    private static final int HEADER_BYTES = 3;
    private static final int SOURCE_BYTES = 176;
    /** Values per short of a step, and steps per block. */
    private static final int PER_STEP = 3;
    private static final int STEPS = 11;
    /** L shorts: the step shorts of the blocks whose values fill one float vector. */
    private static final VectorSpecies<Short> S_L = VectorSpecies.of(short.class, VectorShape.forBitSize(L * 16));

    private Q5_KPackedTensor(MemorySegment data, int rows, int cols) {
        super(data, rows, cols, BLOCK_BYTES, HEADER_BYTES, SOURCE_BYTES);
    }

    @Override
    public GGMLType type() {
        return GGMLType.Q5_K;
    }

    /** A view of bytes {@link #pack} wrote. */
    public static Q5_KPackedTensor of(MemorySegment data, int rows, int cols) {
        return new Q5_KPackedTensor(data, rows, cols);
    }

    /** Bytes the packed form of a rows × cols matrix takes. */
    public static long byteSize(int rows, int cols) {
        return rows * rowBytes(cols, BLOCK_BYTES, SOURCE_BYTES);
    }

    /** Converts rows [from, to) of {@code source} into {@code dst}. */
    public static void pack(Q5_KTensor source, MemorySegment dst, int from, int to) {
        pack(source, dst, from, to, BLOCK_BYTES, HEADER_BYTES, 0, SOURCE_BYTES, (q5k, block, sb, steps, out) -> {
            int first = sb * SUB;
            int group = first / LANES * LANES * BLOCK_BYTES;
            for (int s = 0; s < SUB; s++) {
                int k = first % LANES + s;
                for (int m = 0; m < STEPS; m++) {
                    int word = 0;
                    for (int f = 0; f < PER_STEP && PER_STEP * m + f < QK; f++) {
                        word |= value(q5k, block, s, PER_STEP * m + f) << 5 * f;
                    }
                    BYTES_AS_SHORTS.set(out, group + HEADER_BYTES * LANES + 2 * (m * LANES + k), (short) word);
                }
            }
        });
    }

    /** q of value l of sub-block s of the Q5_K super-block at {@code block} (see {@link Q5_KTensor}). */
    private static int value(MemorySegment q5k, int block, int s, int l) {
        int nibble = q5k.get(ValueLayout.JAVA_BYTE, block + 48 + 32 * (s / 2) + l) >> 4 * (s % 2) & 0x0f;
        return nibble | (q5k.get(ValueLayout.JAVA_BYTE, block + 16 + l) >> s & 1) << 4;
    }

    /**
     * Σ over the groups of e·(d·scale·Σ (q − 16)·x + (16·d·scale − dmin·min)·Σ x), e the activations' scale, one pass
     * per group: the sums over values [0, 15), [15, 30) and [30, 32) start at the activations' centring
     * ({@link Q8Activations#q5Offsets}), each at most 15 values of at most 16·127, exact in 16-bit lanes; they are
     * widened and finished with the group's scales before the next group. (A pass per window into per-row scratch and
     * a float pass per row took 6.0–7.3 ms against 4.2–5.0 on 12288 × 9216, as it slowed Q6_K.) The activation loads
     * are written out: a helper left as a call by C2's inlining budget returns its vector boxed.
     */
    @Override
    float groupsDot(int row, Q8Activations x, int t) {
        int blocks = cols / QK;
        byte[] values = x.values;
        FloatVector acc0 = FloatVector.zero(F);
        FloatVector acc1 = acc0;
        for (int g = 0; g < groups(cols); g++) {
            long group = group(row, g);
            int xg = t * cols + g * QK * LANES;
            int xs = t * blocks + g * LANES;
            IntVector sum0 = IntVector.zero(I);
            IntVector sum1 = sum0;
            for (int w = 0; w < 2; w++) {
                ShortVector sum = ShortVector.fromArray(S_FULL, x.q5Offsets, (3 * t + w) * blocks + g * LANES);
                for (int m = 5 * w; m < 5 * w + 5; m++) {
                    ShortVector step = ShortVector.fromMemorySegment(S_FULL, data,
                            group + (HEADER_BYTES + 2L * m) * LANES, ByteOrder.LITTLE_ENDIAN);
                    int j = PER_STEP * m;
                    ShortVector x0 = (ShortVector) ByteVector.fromArray(B_HALF, values, xg + j * LANES)
                            .convertShape(VectorOperators.B2S, S_FULL, 0);
                    ShortVector x1 = (ShortVector) ByteVector.fromArray(B_HALF, values, xg + (j + 1) * LANES)
                            .convertShape(VectorOperators.B2S, S_FULL, 0);
                    ShortVector x2 = (ShortVector) ByteVector.fromArray(B_HALF, values, xg + (j + 2) * LANES)
                            .convertShape(VectorOperators.B2S, S_FULL, 0);
                    sum = sum.add(step.and((short) 31).mul(x0))
                            .add(step.lanewise(VectorOperators.LSHR, 5).and((short) 31).mul(x1))
                            .add(step.lanewise(VectorOperators.LSHR, 10).mul(x2));
                }
                sum0 = sum0.add((IntVector) sum.convertShape(VectorOperators.S2I, I, 0));
                sum1 = sum1.add((IntVector) sum.convertShape(VectorOperators.S2I, I, 1));
            }
            ShortVector last = ShortVector.fromMemorySegment(S_FULL, data,
                    group + (HEADER_BYTES + 2L * (STEPS - 1)) * LANES, ByteOrder.LITTLE_ENDIAN);
            ShortVector x30 = (ShortVector) ByteVector.fromArray(B_HALF, values, xg + 30 * LANES)
                    .convertShape(VectorOperators.B2S, S_FULL, 0);
            ShortVector x31 = (ShortVector) ByteVector.fromArray(B_HALF, values, xg + 31 * LANES)
                    .convertShape(VectorOperators.B2S, S_FULL, 0);
            ShortVector tail = ShortVector.fromArray(S_FULL, x.q5Offsets, (3 * t + 2) * blocks + g * LANES)
                    .add(last.and((short) 31).mul(x30)).add(last.lanewise(VectorOperators.LSHR, 5).mul(x31));
            sum0 = sum0.add((IntVector) tail.convertShape(VectorOperators.S2I, I, 0));
            sum1 = sum1.add((IntVector) tail.convertShape(VectorOperators.S2I, I, 1));

            FloatVector superBlocks = FloatVector.fromMemorySegment(F, data, group, ByteOrder.LITTLE_ENDIAN);
            ByteVector scales = ByteVector.fromMemorySegment(B_HALF, data, group + LANES, ByteOrder.LITTLE_ENDIAN);
            ByteVector mins = ByteVector.fromMemorySegment(B_HALF, data, group + 2L * LANES, ByteOrder.LITTLE_ENDIAN);
            FloatVector d0 = superBlocks.rearrange(D_LOW)
                    .mul((FloatVector) scales.convertShape(VectorOperators.B2F, F, 0));
            FloatVector d1 = superBlocks.rearrange(D_HIGH)
                    .mul((FloatVector) scales.convertShape(VectorOperators.B2F, F, 1));
            FloatVector c0 = d0.mul(16f).add(superBlocks.rearrange(M_LOW)
                    .mul((FloatVector) mins.convertShape(VectorOperators.B2F, F, 0)));
            FloatVector c1 = d1.mul(16f).add(superBlocks.rearrange(M_HIGH)
                    .mul((FloatVector) mins.convertShape(VectorOperators.B2F, F, 1)));
            acc0 = c0.fma(FloatVector.fromArray(F, x.sums, xs), acc0);
            acc1 = c1.fma(FloatVector.fromArray(F, x.sums, xs + L), acc1);
            acc0 = ((FloatVector) sum0.convert(VectorOperators.I2F, 0))
                    .fma(d0.mul(FloatVector.fromArray(F, x.scales, xs)), acc0);
            acc1 = ((FloatVector) sum1.convert(VectorOperators.I2F, 0))
                    .fma(d1.mul(FloatVector.fromArray(F, x.scales, xs + L)), acc1);
        }
        acc0 = acc0.add(acc1);
        for (VectorShuffle<Float> halving : VectorMath.HALVINGS) {
            acc0 = acc0.add(acc0.rearrange(halving));
        }
        return acc0.lane(0);
    }

    /** Tail blocks, read from their Q5_K super-blocks, value by value. */
    @Override
    float tailDot(int row, Q8Activations x, int t) {
        float tail = 0f;
        for (int b = groups(cols) * LANES; b < cols / QK; b++) {
            tail += blockDot(row, b, x, t);
        }
        return tail;
    }

    @Override
    float dotScalar(int row, Q8Activations x, int t) {
        float sum = 0f;
        for (int b = 0; b < cols / QK; b++) {
            sum += blockDot(row, b, x, t);
        }
        return sum;
    }

    private float blockDot(int row, int b, Q8Activations x, int t) {
        int weighted = 0;
        int plain = 0;
        for (int j = 0; j < QK; j++) {
            weighted += quant(row, b, j) * x.value(t, b * QK + j);
            plain += x.value(t, b * QK + j);
        }
        return x.scale(t, b) * (scale(row, b) * weighted + minimum(row, b) * plain);
    }

    /** q (0–31) of value j of block b of a row, for the scalar paths. */
    private int quant(int row, int b, int j) {
        if (inTail(b)) {
            long block = tailSuperBlock(row, b);
            int s = b % SUB;
            int u = data.get(ValueLayout.JAVA_BYTE, block + 48 + 32 * (s / 2) + j) >> 4 * (s % 2) & 0x0f;
            return u | (data.get(ValueLayout.JAVA_BYTE, block + 16 + j) >> s & 1) << 4;
        }
        long step = group(row, b / LANES) + (HEADER_BYTES + 2L * (j / PER_STEP)) * LANES + 2L * (b % LANES);
        return data.get(Simd.LE_SHORT, step) >> 5 * (j % PER_STEP) & 31;
    }

    /** Values in {@link Q8_0PackedTensor}'s order, one half of a group's lanes at a time (C2's node budget). */
    @Override
    public void dequantizeRowStored(int row, float[] out, int outOffset) {
        for (int g = 0; g < groups(cols); g++) {
            for (int p = 0; p < LANES; p += L) {
                storeHalf(group(row, g), p, out, outOffset + g * QK * LANES + p);
            }
        }
        for (int b = groups(cols) * LANES; b < cols / QK; b++) {
            dequantizeBlock(row, b, out, outOffset + b * QK);
        }
    }

    /** d·scale·q − dmin·min of every value of lanes [p, p + L) of a group, value j at {@code at + j·LANES}. */
    private void storeHalf(long group, int p, float[] out, int at) {
        FloatVector superBlocks = FloatVector.fromMemorySegment(F, data, group, ByteOrder.LITTLE_ENDIAN);
        FloatVector d = superBlocks.rearrange(p == 0 ? D_LOW : D_HIGH).mul((FloatVector) ByteVector
                .fromMemorySegment(Simd.B_QUARTER, data, group + LANES + p, ByteOrder.LITTLE_ENDIAN)
                .convertShape(VectorOperators.B2F, F, 0));
        FloatVector m = superBlocks.rearrange(p == 0 ? M_LOW : M_HIGH).mul((FloatVector) ByteVector
                .fromMemorySegment(Simd.B_QUARTER, data, group + 2L * LANES + p, ByteOrder.LITTLE_ENDIAN)
                .convertShape(VectorOperators.B2F, F, 0));
        for (int j = 0; j < QK; j++) {
            IntVector step = (IntVector) ShortVector.fromMemorySegment(S_L, data,
                    group + (HEADER_BYTES + 2L * (j / PER_STEP)) * LANES + 2L * p, ByteOrder.LITTLE_ENDIAN)
                    .convertShape(VectorOperators.S2I, I, 0);
            ((FloatVector) step.lanewise(VectorOperators.LSHR, 5 * (j % PER_STEP)).and(31)
                    .convert(VectorOperators.I2F, 0)).fma(d, m).intoArray(out, at + j * LANES);
        }
    }

    @Override
    int[] storedOrder(int cols) {
        return valueOrder(cols);
    }

    @Override
    void dequantizeBlock(int row, int b, float[] out, int outOffset) {
        float d = scale(row, b);
        float m = minimum(row, b);
        for (int j = 0; j < QK; j++) {
            out[outOffset + j] = d * quant(row, b, j) + m;
        }
    }
}
