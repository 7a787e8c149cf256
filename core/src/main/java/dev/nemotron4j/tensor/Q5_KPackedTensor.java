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
import java.util.Arrays;

import static dev.nemotron4j.tensor.Simd.B_HALF;
import static dev.nemotron4j.tensor.Simd.F;
import static dev.nemotron4j.tensor.Simd.I;
import static dev.nemotron4j.tensor.Simd.L;
import static dev.nemotron4j.tensor.Simd.S_FULL;

/**
 * {@link Q5_KTensor Q5_K} {@link PackedTensor packed} for decode, 23 bytes per 32 values against Q5_K's 22: the
 * {@link Q4_KPackedTensor} layout with the fifth bit of each value added. A value of a block is d·scale·q − dmin·min
 * with q = u + 16h, u a nibble and h its high bit. A group of LANES blocks is 23·LANES bytes:
 * <pre>
 *   the {@link KPackedTensor header}: d, −dmin, scales, mins     3·LANES bytes
 *   per block a short whose bit j is h of value j              2·LANES bytes
 *   per block a short whose bit j is h of value j + 16         2·LANES bytes
 *   16 steps as {@link Q4_0PackedTensor Q4_0} has them          16·LANES bytes
 * </pre>
 * Decode adds 16h to the nibbles of a step before the 16-bit products. Values up to 31 no longer keep a block's sum
 * within 16 bits, so the sums are centred (q − 16, from {@link Q8Activations#q5Offsets}) and widened to ints after
 * each half of the steps, 16 values of at most 16·127. Tail super-blocks take Q5_K's 176 bytes.
 */
public final class Q5_KPackedTensor extends KPackedTensor {
    private static final int BLOCK_BYTES = 23;
    private static final int HEADER_BYTES = 7;
    private static final int STEPS = QK / 2;
    private static final int SOURCE_BYTES = 176;
    /** L shorts: the high-bit shorts of the blocks whose values fill one float vector. */
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
        pack(source, dst, from, to, BLOCK_BYTES, HEADER_BYTES, SOURCE_BYTES, (q5k, block, sb, steps, out) -> {
            int first = sb * SUB;
            int group = first / LANES * LANES * BLOCK_BYTES;
            for (int s = 0; s < SUB; s++) {
                int low = 0;
                int high = 0;
                int o = (first + s) * BLOCK_BYTES + HEADER_BYTES;
                for (int j = 0; j < STEPS; j++) {
                    steps[o + j] = (byte) (nibble(q5k, block, s, j) | nibble(q5k, block, s, j + STEPS) << 4);
                    low |= highBit(q5k, block, s, j) << j;
                    high |= highBit(q5k, block, s, j + STEPS) << j;
                }
                int k = first % LANES + s;
                BYTES_AS_SHORTS.set(out, group + 3 * LANES + 2 * k, (short) low);
                BYTES_AS_SHORTS.set(out, group + 5 * LANES + 2 * k, (short) high);
            }
        });
    }

    /** u of value l of sub-block s of the Q5_K super-block at {@code block} (see {@link Q5_KTensor}). */
    private static int nibble(MemorySegment q5k, int block, int s, int l) {
        return q5k.get(ValueLayout.JAVA_BYTE, block + 48 + 32 * (s / 2) + l) >> 4 * (s % 2) & 0x0f;
    }

    /** h of value l of sub-block s. */
    private static int highBit(MemorySegment q5k, int block, int s, int l) {
        return q5k.get(ValueLayout.JAVA_BYTE, block + 16 + l) >> s & 1;
    }

    /** The 32-bit sums of a row's blocks, [group][lane], written by {@link #halfSums}. */
    @Override
    int scratchInts() {
        return groups(cols) * LANES;
    }

    /**
     * The integer sums of each half of a group's steps take a method of their own and their float finish another,
     * each compiled with every Vector API call in it inlined (in one method they were not, and the vectors were
     * boxed), and no vector crosses a call.
     */
    @Override
    float groupsDot(int row, Q8Activations x, int t, int[] sums) {
        Arrays.fill(sums, 0, scratchInts(), 0);
        for (int g = 0; g < groups(cols); g++) {
            long group = group(row, g);
            halfSums(group, x, t, g, 0, sums);
            halfSums(group, x, t, g, 1, sums);
        }
        return finish(row, x, t, sums);
    }

    /**
     * Adds to sums[g·LANES …] Σ (q − 16)·x over steps [8·half, 8·half + 8) of group g: its nibbles get 16h from the
     * high-bit shorts shifted by the step, and the sum starts at the activations' centring. Always an add (the sums
     * start at zero): a vector chosen by a branch was boxed.
     */
    private void halfSums(long group, Q8Activations x, int t, int g, int half, int[] sums) {
        int blocks = cols / QK;
        int xg = t * cols + g * QK * LANES;
        int first = half * STEPS / 2;
        // The high bits of this half's steps moved to bits 4…11, so that step first + i finds 16h at bit 4 after a
        // shift by i.
        ShortVector lowBits = ShortVector.fromMemorySegment(S_FULL, data, group + 3L * LANES, ByteOrder.LITTLE_ENDIAN)
                .lanewise(VectorOperators.LSHR, first / 2).lanewise(VectorOperators.LSHL, 4 - first / 2);
        ShortVector highBits = ShortVector.fromMemorySegment(S_FULL, data, group + 5L * LANES,
                ByteOrder.LITTLE_ENDIAN).lanewise(VectorOperators.LSHR, first / 2).lanewise(VectorOperators.LSHL,
                4 - first / 2);
        ShortVector sum = ShortVector.fromArray(S_FULL, x.q5Offsets, (2 * t + half) * blocks + g * LANES);
        for (int i = 0; i < STEPS / 2; i++) {
            int j = first + i;
            ShortVector q = (ShortVector) ByteVector.fromMemorySegment(B_HALF, data,
                            group + (long) HEADER_BYTES * LANES + (long) j * LANES, ByteOrder.LITTLE_ENDIAN)
                    .convertShape(VectorOperators.B2S, S_FULL, 0);
            sum = sum.add(q.and((short) 0x0f).add(lowBits.lanewise(VectorOperators.LSHR, i).and((short) 16))
                            .mul(activations(x.values, xg + j * LANES)))
                    .add(q.lanewise(VectorOperators.ASHR, 4)
                            .add(highBits.lanewise(VectorOperators.LSHR, i).and((short) 16))
                            .mul(activations(x.values, xg + (j + STEPS) * LANES)));
        }
        ((IntVector) sum.convertShape(VectorOperators.S2I, I, 0)).add(IntVector.fromArray(I, sums, g * LANES))
                .intoArray(sums, g * LANES);
        ((IntVector) sum.convertShape(VectorOperators.S2I, I, 1)).add(IntVector.fromArray(I, sums, g * LANES + L))
                .intoArray(sums, g * LANES + L);
    }

    /** Σ over the groups of e·(d·scale·Σ (q − 16)·x + (16·d·scale − dmin·min)·Σ x), e the activations' scale. */
    private float finish(int row, Q8Activations x, int t, int[] sums) {
        int blocks = cols / QK;
        FloatVector acc0 = FloatVector.zero(F);
        FloatVector acc1 = acc0;
        for (int g = 0; g < groups(cols); g++) {
            long group = group(row, g);
            int xs = t * blocks + g * LANES;
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
            acc0 = ((FloatVector) IntVector.fromArray(I, sums, g * LANES).convert(VectorOperators.I2F, 0))
                    .fma(d0.mul(FloatVector.fromArray(F, x.scales, xs)), acc0);
            acc1 = ((FloatVector) IntVector.fromArray(I, sums, g * LANES + L).convert(VectorOperators.I2F, 0))
                    .fma(d1.mul(FloatVector.fromArray(F, x.scales, xs + L)), acc1);
        }
        return acc0.add(acc1).reduceLanes(VectorOperators.ADD);
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

    /** q = u + 16h (0–31) of value j of block b of a row, for the scalar paths. */
    private int quant(int row, int b, int j) {
        if (inTail(b)) {
            long block = tailSuperBlock(row, b);
            int s = b % SUB;
            int u = data.get(ValueLayout.JAVA_BYTE, block + 48 + 32 * (s / 2) + j) >> 4 * (s % 2) & 0x0f;
            return u | (data.get(ValueLayout.JAVA_BYTE, block + 16 + j) >> s & 1) << 4;
        }
        int nibbles = sourceByte(row, b, j % STEPS);
        int u = j < STEPS ? nibbles & 0x0f : nibbles >>> 4;
        long bits = group(row, b / LANES) + (j < STEPS ? 3L : 5L) * LANES + 2L * (b % LANES);
        return u | (data.get(Simd.LE_SHORT, bits) >> j % STEPS & 1) << 4;
    }

    /**
     * Low nibbles give u and high ones u − 8 (see {@link Q4_0PackedTensor}), so those take 8·d·scale more as their
     * offset; then 16h·d·scale is added. Two methods per half of a group's lanes, for the reason {@link #groupsDot}
     * gives (one method per group still passed C2's node budget).
     */
    @Override
    public void dequantizeRowStored(int row, float[] out, int outOffset) {
        for (int g = 0; g < groups(cols); g++) {
            for (int p = 0; p < LANES; p += L) {
                storeNibbles(group(row, g), p, out, outOffset + g * QK * LANES + p);
                addHighBits(group(row, g), p, out, outOffset + g * QK * LANES + p);
            }
        }
        for (int b = groups(cols) * LANES; b < cols / QK; b++) {
            dequantizeBlock(row, b, out, outOffset + b * QK);
        }
    }

    /** The values of lanes [p, p + L) of a group as d·scale·u − dmin·min, 16h left out. */
    private void storeNibbles(long group, int p, float[] out, int at) {
        FloatVector superBlocks = FloatVector.fromMemorySegment(F, data, group, ByteOrder.LITTLE_ENDIAN);
        FloatVector d = superBlocks.rearrange(p == 0 ? D_LOW : D_HIGH).mul((FloatVector) ByteVector
                .fromMemorySegment(Simd.B_QUARTER, data, group + LANES + p, ByteOrder.LITTLE_ENDIAN)
                .convertShape(VectorOperators.B2F, F, 0));
        FloatVector m = superBlocks.rearrange(p == 0 ? M_LOW : M_HIGH).mul((FloatVector) ByteVector
                .fromMemorySegment(Simd.B_QUARTER, data, group + 2L * LANES + p, ByteOrder.LITTLE_ENDIAN)
                .convertShape(VectorOperators.B2F, F, 0));
        FloatVector c = d.mul(8f).add(m);
        for (int j = 0; j < STEPS; j++) {
            IntVector v = (IntVector) ByteVector.fromMemorySegment(Simd.B_QUARTER, data,
                    group + (long) HEADER_BYTES * LANES + (long) j * LANES + p, ByteOrder.LITTLE_ENDIAN)
                    .convertShape(VectorOperators.B2I, I, 0);
            int o = at + j * 2 * LANES;
            ((FloatVector) v.and(0x0f).convert(VectorOperators.I2F, 0)).fma(d, m).intoArray(out, o);
            ((FloatVector) v.lanewise(VectorOperators.ASHR, 4).convert(VectorOperators.I2F, 0)).fma(d, c)
                    .intoArray(out, o + LANES);
        }
    }

    /** Adds 16h·d·scale to the values of lanes [p, p + L) of a group. */
    private void addHighBits(long group, int p, float[] out, int at) {
        FloatVector sixteenD = FloatVector.fromMemorySegment(F, data, group, ByteOrder.LITTLE_ENDIAN)
                .rearrange(p == 0 ? D_LOW : D_HIGH).mul((FloatVector) ByteVector
                        .fromMemorySegment(Simd.B_QUARTER, data, group + LANES + p, ByteOrder.LITTLE_ENDIAN)
                        .convertShape(VectorOperators.B2F, F, 0)).mul(16f);
        IntVector lowBits = (IntVector) ShortVector.fromMemorySegment(S_L, data,
                group + 3L * LANES + 2L * p, ByteOrder.LITTLE_ENDIAN).convertShape(VectorOperators.S2I, I, 0);
        IntVector highBits = (IntVector) ShortVector.fromMemorySegment(S_L, data,
                group + 5L * LANES + 2L * p, ByteOrder.LITTLE_ENDIAN).convertShape(VectorOperators.S2I, I, 0);
        for (int j = 0; j < STEPS; j++) {
            int o = at + j * 2 * LANES;
            ((FloatVector) lowBits.lanewise(VectorOperators.LSHR, j).and(1).convert(VectorOperators.I2F, 0))
                    .fma(sixteenD, FloatVector.fromArray(F, out, o)).intoArray(out, o);
            ((FloatVector) highBits.lanewise(VectorOperators.LSHR, j).and(1).convert(VectorOperators.I2F, 0))
                    .fma(sixteenD, FloatVector.fromArray(F, out, o + LANES)).intoArray(out, o + LANES);
        }
    }

    /** The same order as {@link Q4_0PackedTensor}'s: both keep value j and j + 16 of a block in one byte. */
    @Override
    int[] storedOrder(int cols) {
        return Q4_0PackedTensor.nibbleOrder(cols);
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
