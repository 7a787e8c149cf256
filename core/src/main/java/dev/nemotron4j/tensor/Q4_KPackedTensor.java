package dev.nemotron4j.tensor;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

import static dev.nemotron4j.tensor.Simd.B_HALF;
import static dev.nemotron4j.tensor.Simd.F;
import static dev.nemotron4j.tensor.Simd.I;
import static dev.nemotron4j.tensor.Simd.L;
import static dev.nemotron4j.tensor.Simd.S_FULL;

/**
 * {@link Q4_KTensor Q4_K} {@link PackedTensor packed} for decode, 19 bytes per 32 values against Q4_K's 18. Each
 * sub-block of 32 values is a block of unsigned nibbles u with value d·scale·u − dmin·min. A group of LANES blocks is
 * the {@link KPackedTensor header} (3 bytes per block), then 16 steps as {@link Q4_1PackedTensor Q4_1} has them,
 * 19·LANES bytes in all, so a block is the Q4_1 block d·scale, m = −dmin·min, taken exactly, and decodes as
 * {@link Q4_1PackedTensor}'s does: e·(d·Σ (u − 8)·q + (8d + m)·Σ q). Tail super-blocks take Q4_K's 144 bytes.
 */
public final class Q4_KPackedTensor extends KPackedTensor implements IntegerRows {
    private static final int BLOCK_BYTES = 19;
    private static final int HEADER_BYTES = 3;
    private static final int STEPS = QK / 2;
    private static final int SOURCE_BYTES = 144;

    private Q4_KPackedTensor(MemorySegment data, int rows, int cols) {
        super(data, rows, cols, BLOCK_BYTES, HEADER_BYTES, SOURCE_BYTES);
    }

    @Override
    public GGMLType type() {
        return GGMLType.Q4_K;
    }

    /** A view of bytes {@link #pack} wrote. */
    public static Q4_KPackedTensor of(MemorySegment data, int rows, int cols) {
        return new Q4_KPackedTensor(data, rows, cols);
    }

    /** Bytes the packed form of a rows × cols matrix takes. */
    public static long byteSize(int rows, int cols) {
        return rows * rowBytes(cols, BLOCK_BYTES, SOURCE_BYTES);
    }

    /** Converts rows [from, to) of {@code source} into {@code dst}. */
    public static void pack(Q4_KTensor source, MemorySegment dst, int from, int to) {
        pack(source, dst, from, to, BLOCK_BYTES, HEADER_BYTES, STEPS, SOURCE_BYTES, (q4k, block, sb, steps, out) -> {
            for (int s = 0; s < SUB; s++) {
                mergeNibbles(q4k, block, s, steps, (sb * SUB + s) * BLOCK_BYTES + HEADER_BYTES);
            }
        });
    }

    /**
     * Sub-block s of the Q4_K super-block at {@code block} as a Q4_1 block's 16 bytes: sub-block 2g takes the low
     * nibbles of qs[32g…32g+31] and 2g+1 the high ones, value l in byte l; a Q4_1 block keeps value j in byte j's low
     * nibble and j + 16 in its high nibble, so bytes l and l + 16 merge into one, eight at a time.
     */
    private static void mergeNibbles(MemorySegment q4k, int block, int s, byte[] out, int o) {
        long lowNibbles = 0x0f0f0f0f0f0f0f0fL;
        int qs = block + 16 + 32 * (s / 2);
        for (int half = 0; half < 2; half++) {
            long first = q4k.get(Simd.LE_LONG, qs + 8 * half);
            long second = q4k.get(Simd.LE_LONG, qs + 16 + 8 * half);
            long merged = s % 2 == 0
                    ? (first & lowNibbles) | (second & lowNibbles) << 4
                    : (first >>> 4 & lowNibbles) | (second & ~lowNibbles);
            BYTES_AS_LONGS.set(out, o + 8 * half, merged);
        }
    }

    /** Q4_1's kernel with the block scales and minimums formed from the header (vector ops written out, as there). */
    @Override
    float groupsDot(int row, Q8Activations x, int t) {
        int groups = groups(cols);
        int blocks = cols / QK;
        FloatVector acc0 = FloatVector.zero(F);
        FloatVector acc1 = acc0;
        for (int g = 0; g < groups; g++) {
            long group = group(row, g);
            int xs = t * blocks + g * LANES;
            int xg = t * cols + g * QK * LANES;
            ShortVector sum = ShortVector.fromArray(S_FULL, x.lowOffsets, xs);
            for (int j = 0; j < STEPS; j++) { // Q4_1's step loop (see there why it is not shared)
                ShortVector q = (ShortVector) ByteVector.fromMemorySegment(B_HALF, data,
                                group + (long) HEADER_BYTES * LANES + (long) j * LANES, ByteOrder.LITTLE_ENDIAN)
                        .convertShape(VectorOperators.B2S, S_FULL, 0);
                sum = sum.add(q.and((short) 0x0f).mul(activations(x.values, xg + j * LANES)))
                        .add(q.lanewise(VectorOperators.ASHR, 4)
                                .mul(activations(x.values, xg + (j + STEPS) * LANES)));
            }
            FloatVector superBlocks = FloatVector.fromMemorySegment(F, data, group, ByteOrder.LITTLE_ENDIAN);
            ByteVector scales = ByteVector.fromMemorySegment(B_HALF, data, group + LANES, ByteOrder.LITTLE_ENDIAN);
            ByteVector mins = ByteVector.fromMemorySegment(B_HALF, data, group + 2L * LANES, ByteOrder.LITTLE_ENDIAN);
            FloatVector d0 = superBlocks.rearrange(D_LOW)
                    .mul((FloatVector) scales.convertShape(VectorOperators.B2F, F, 0));
            FloatVector d1 = superBlocks.rearrange(D_HIGH)
                    .mul((FloatVector) scales.convertShape(VectorOperators.B2F, F, 1));
            FloatVector c0 = d0.mul(8f).add(superBlocks.rearrange(M_LOW)
                    .mul((FloatVector) mins.convertShape(VectorOperators.B2F, F, 0)));
            FloatVector c1 = d1.mul(8f).add(superBlocks.rearrange(M_HIGH)
                    .mul((FloatVector) mins.convertShape(VectorOperators.B2F, F, 1)));
            acc0 = c0.fma(FloatVector.fromArray(F, x.sums, xs), acc0);
            acc1 = c1.fma(FloatVector.fromArray(F, x.sums, xs + L), acc1);
            acc0 = ((FloatVector) sum.convertShape(VectorOperators.S2I, I, 0).convert(VectorOperators.I2F, 0))
                    .fma(d0.mul(FloatVector.fromArray(F, x.scales, xs)), acc0);
            acc1 = ((FloatVector) sum.convertShape(VectorOperators.S2I, I, 1).convert(VectorOperators.I2F, 0))
                    .fma(d1.mul(FloatVector.fromArray(F, x.scales, xs + L)), acc1);
        }
        return acc0.add(acc1).reduceLanes(VectorOperators.ADD);
    }

    /**
     * Four vectors at a time when there are four, each step's weights widened and split into nibbles once for all
     * four (1.24 times the vector-weights per second of one at a time), the step loop written out: shared through a
     * method that stores its sums to an array, it measured 63–64 against 69–71 Gw/s.
     */
    @Override
    int groupsDots(int row, Q8Activations x, int t, int available, float[] out) {
        if (available < 4) {
            out[t * rows + row] = groupsDot(row, x, t);
            return 1;
        }
        int groups = groups(cols);
        int blocks = cols / QK;
        byte[] values = x.values;
        FloatVector a0 = FloatVector.zero(F);
        FloatVector a1 = a0;
        FloatVector a2 = a0;
        FloatVector a3 = a0;
        for (int g = 0; g < groups; g++) {
            long group = group(row, g);
            int x0 = t * cols + g * QK * LANES;
            int s0 = t * blocks + g * LANES;
            ShortVector sum0 = ShortVector.fromArray(S_FULL, x.lowOffsets, s0);
            ShortVector sum1 = ShortVector.fromArray(S_FULL, x.lowOffsets, s0 + blocks);
            ShortVector sum2 = ShortVector.fromArray(S_FULL, x.lowOffsets, s0 + 2 * blocks);
            ShortVector sum3 = ShortVector.fromArray(S_FULL, x.lowOffsets, s0 + 3 * blocks);
            for (int j = 0; j < STEPS; j++) {
                ShortVector q = (ShortVector) ByteVector.fromMemorySegment(B_HALF, data,
                                group + (long) HEADER_BYTES * LANES + (long) j * LANES, ByteOrder.LITTLE_ENDIAN)
                        .convertShape(VectorOperators.B2S, S_FULL, 0);
                ShortVector low = q.and((short) 0x0f);
                ShortVector high = q.lanewise(VectorOperators.ASHR, 4);
                int lo = x0 + j * LANES;
                int hi = x0 + (j + STEPS) * LANES;
                sum0 = sum0.add(low.mul(activations(values, lo))).add(high.mul(activations(values, hi)));
                sum1 = sum1.add(low.mul(activations(values, lo + cols))).add(high.mul(activations(values, hi + cols)));
                sum2 = sum2.add(low.mul(activations(values, lo + 2 * cols)))
                        .add(high.mul(activations(values, hi + 2 * cols)));
                sum3 = sum3.add(low.mul(activations(values, lo + 3 * cols)))
                        .add(high.mul(activations(values, hi + 3 * cols)));
            }
            FloatVector superBlocks = FloatVector.fromMemorySegment(F, data, group, ByteOrder.LITTLE_ENDIAN);
            ByteVector scales = ByteVector.fromMemorySegment(B_HALF, data, group + LANES, ByteOrder.LITTLE_ENDIAN);
            ByteVector mins = ByteVector.fromMemorySegment(B_HALF, data, group + 2L * LANES, ByteOrder.LITTLE_ENDIAN);
            FloatVector d0 = superBlocks.rearrange(D_LOW)
                    .mul((FloatVector) scales.convertShape(VectorOperators.B2F, F, 0));
            FloatVector d1 = superBlocks.rearrange(D_HIGH)
                    .mul((FloatVector) scales.convertShape(VectorOperators.B2F, F, 1));
            FloatVector c0 = d0.mul(8f).add(superBlocks.rearrange(M_LOW)
                    .mul((FloatVector) mins.convertShape(VectorOperators.B2F, F, 0)));
            FloatVector c1 = d1.mul(8f).add(superBlocks.rearrange(M_HIGH)
                    .mul((FloatVector) mins.convertShape(VectorOperators.B2F, F, 1)));
            int s1 = s0 + blocks;
            int s2 = s1 + blocks;
            int s3 = s2 + blocks;
            a0 = c0.fma(FloatVector.fromArray(F, x.sums, s0), a0).add(c1.mul(FloatVector.fromArray(F, x.sums, s0 + L)));
            a1 = c0.fma(FloatVector.fromArray(F, x.sums, s1), a1).add(c1.mul(FloatVector.fromArray(F, x.sums, s1 + L)));
            a2 = c0.fma(FloatVector.fromArray(F, x.sums, s2), a2).add(c1.mul(FloatVector.fromArray(F, x.sums, s2 + L)));
            a3 = c0.fma(FloatVector.fromArray(F, x.sums, s3), a3).add(c1.mul(FloatVector.fromArray(F, x.sums, s3 + L)));
            a0 = ((FloatVector) sum0.convertShape(VectorOperators.S2I, I, 0).convert(VectorOperators.I2F, 0))
                    .fma(d0.mul(FloatVector.fromArray(F, x.scales, s0)), a0);
            a0 = ((FloatVector) sum0.convertShape(VectorOperators.S2I, I, 1).convert(VectorOperators.I2F, 0))
                    .fma(d1.mul(FloatVector.fromArray(F, x.scales, s0 + L)), a0);
            a1 = ((FloatVector) sum1.convertShape(VectorOperators.S2I, I, 0).convert(VectorOperators.I2F, 0))
                    .fma(d0.mul(FloatVector.fromArray(F, x.scales, s1)), a1);
            a1 = ((FloatVector) sum1.convertShape(VectorOperators.S2I, I, 1).convert(VectorOperators.I2F, 0))
                    .fma(d1.mul(FloatVector.fromArray(F, x.scales, s1 + L)), a1);
            a2 = ((FloatVector) sum2.convertShape(VectorOperators.S2I, I, 0).convert(VectorOperators.I2F, 0))
                    .fma(d0.mul(FloatVector.fromArray(F, x.scales, s2)), a2);
            a2 = ((FloatVector) sum2.convertShape(VectorOperators.S2I, I, 1).convert(VectorOperators.I2F, 0))
                    .fma(d1.mul(FloatVector.fromArray(F, x.scales, s2 + L)), a2);
            a3 = ((FloatVector) sum3.convertShape(VectorOperators.S2I, I, 0).convert(VectorOperators.I2F, 0))
                    .fma(d0.mul(FloatVector.fromArray(F, x.scales, s3)), a3);
            a3 = ((FloatVector) sum3.convertShape(VectorOperators.S2I, I, 1).convert(VectorOperators.I2F, 0))
                    .fma(d1.mul(FloatVector.fromArray(F, x.scales, s3 + L)), a3);
        }
        out[t * rows + row] = a0.reduceLanes(VectorOperators.ADD);
        out[(t + 1) * rows + row] = a1.reduceLanes(VectorOperators.ADD);
        out[(t + 2) * rows + row] = a2.reduceLanes(VectorOperators.ADD);
        out[(t + 3) * rows + row] = a3.reduceLanes(VectorOperators.ADD);
        return 4;
    }

    /** Sub-block s of a tail super-block: 16-bit products of its nibbles, low ones for even s, high for odd. */
    @Override
    float tailDot(int row, Q8Activations x, int t) {
        float tail = 0f;
        for (int b = groups(cols) * LANES; b < cols / QK; b += SUB) {
            long block = tailSuperBlock(row, b);
            float d = Simd.f16(data, block);
            float dmin = Simd.f16(data, block + 2);
            for (int s = 0; s < SUB; s++) {
                long qs = block + 16 + 32 * (s / 2);
                ShortVector first = shorts16(qs);
                ShortVector second = shorts16(qs + 16);
                int shift = 4 * (s % 2);
                int sum = tailBlockDot(first.lanewise(VectorOperators.LSHR, shift).and((short) 0x0f),
                        second.lanewise(VectorOperators.LSHR, shift).and((short) 0x0f), x, t, (b + s) * QK);
                tail += d * Q4_KTensor.scale(data, block + 4, s) * x.scale(t, b + s) * sum
                        - dmin * Q4_KTensor.min(data, block + 4, s) * x.sum(t, b + s);
            }
        }
        return tail;
    }

    /**
     * The row's nibbles as the integers nibble − 8, in stored order: whole groups with vectors, tail blocks through
     * {@link #nibbleByte}.
     */
    private void nibblesAsShorts(int row, short[] q, int qOffset) {
        for (int g = 0; g < groups(cols); g++) {
            long steps = group(row, g) + (long) HEADER_BYTES * LANES;
            for (int j = 0; j < QK / 2; j++) {
                ShortVector v = (ShortVector) ByteVector.fromMemorySegment(Simd.B_HALF, data, steps + (long) j * LANES,
                        ByteOrder.LITTLE_ENDIAN).convertShape(VectorOperators.B2S, Simd.S_FULL, 0);
                int o = qOffset + g * QK * LANES + j * 2 * LANES;
                v.and((short) 0x0f).sub((short) 8).intoArray(q, o);
                v.lanewise(VectorOperators.ASHR, 4).intoArray(q, o + LANES);
            }
        }
        for (int b = groups(cols) * LANES; b < cols / QK; b++) {
            for (int j = 0; j < QK / 2; j++) {
                int nibbles = nibbleByte(row, b, j);
                q[qOffset + b * QK + j] = (short) ((nibbles & 0x0f) - 8);
                q[qOffset + b * QK + j + QK / 2] = (short) ((nibbles >>> 4) - 8);
            }
        }
    }

    /**
     * Byte j of block b, value j in the low nibble and j + 16 in the high one, for the scalar paths: tail blocks are
     * read from their Q4_K super-blocks.
     */
    private int nibbleByte(int row, int b, int j) {
        if (!inTail(b)) {
            return sourceByte(row, b, j);
        }
        long qs = tailSuperBlock(row, b) + 16 + 32 * (b % SUB / 2);
        int shift = 4 * (b % 2);
        return (data.get(ValueLayout.JAVA_BYTE, qs + j) >> shift & 0x0f)
                | (data.get(ValueLayout.JAVA_BYTE, qs + 16 + j) >> shift & 0x0f) << 4;
    }

    @Override
    float dotScalar(int row, Q8Activations x, int t) {
        float sum = 0f;
        for (int b = 0; b < cols / QK; b++) {
            int weighted = 0;
            int plain = 0;
            for (int j = 0; j < STEPS; j++) {
                int q = nibbleByte(row, b, j);
                weighted += (q & 0x0f) * x.value(t, b * QK + j) + (q >>> 4) * x.value(t, b * QK + j + STEPS);
                plain += x.value(t, b * QK + j) + x.value(t, b * QK + j + STEPS);
            }
            sum += x.scale(t, b) * (scale(row, b) * weighted + minimum(row, b) * plain);
        }
        return sum;
    }

    /** Low nibbles give u, high ones u − 8 (see {@link Q4_1PackedTensor}), so those take 8d + m as their offset. */
    @Override
    public void dequantizeRowStored(int row, float[] out, int outOffset) {
        for (int g = 0; g < groups(cols); g++) {
            long group = group(row, g);
            FloatVector superBlocks = FloatVector.fromMemorySegment(F, data, group, ByteOrder.LITTLE_ENDIAN);
            ByteVector scales = ByteVector.fromMemorySegment(B_HALF, data, group + LANES, ByteOrder.LITTLE_ENDIAN);
            ByteVector mins = ByteVector.fromMemorySegment(B_HALF, data, group + 2L * LANES, ByteOrder.LITTLE_ENDIAN);
            FloatVector d0 = superBlocks.rearrange(D_LOW)
                    .mul((FloatVector) scales.convertShape(VectorOperators.B2F, F, 0));
            FloatVector d1 = superBlocks.rearrange(D_HIGH)
                    .mul((FloatVector) scales.convertShape(VectorOperators.B2F, F, 1));
            FloatVector m0 = superBlocks.rearrange(M_LOW)
                    .mul((FloatVector) mins.convertShape(VectorOperators.B2F, F, 0));
            FloatVector m1 = superBlocks.rearrange(M_HIGH)
                    .mul((FloatVector) mins.convertShape(VectorOperators.B2F, F, 1));
            FloatVector c0 = d0.mul(8f).add(m0);
            FloatVector c1 = d1.mul(8f).add(m1);
            for (int j = 0; j < STEPS; j++) {
                long step = group + (long) HEADER_BYTES * LANES + (long) j * LANES;
                IntVector v0 = (IntVector) ByteVector.fromMemorySegment(Simd.B_QUARTER, data, step,
                        ByteOrder.LITTLE_ENDIAN).convertShape(VectorOperators.B2I, I, 0);
                IntVector v1 = (IntVector) ByteVector.fromMemorySegment(Simd.B_QUARTER, data, step + L,
                        ByteOrder.LITTLE_ENDIAN).convertShape(VectorOperators.B2I, I, 0);
                int o = outOffset + g * QK * LANES + j * 2 * LANES;
                ((FloatVector) v0.and(0x0f).convert(VectorOperators.I2F, 0)).fma(d0, m0).intoArray(out, o);
                ((FloatVector) v1.and(0x0f).convert(VectorOperators.I2F, 0)).fma(d1, m1).intoArray(out, o + L);
                ((FloatVector) v0.lanewise(VectorOperators.ASHR, 4).convert(VectorOperators.I2F, 0)).fma(d0, c0)
                        .intoArray(out, o + LANES);
                ((FloatVector) v1.lanewise(VectorOperators.ASHR, 4).convert(VectorOperators.I2F, 0)).fma(d1, c1)
                        .intoArray(out, o + LANES + L);
            }
        }
        for (int b = groups(cols) * LANES; b < cols / QK; b++) {
            dequantizeBlock(row, b, out, outOffset + b * QK);
        }
    }

    @Override
    public boolean intOffsets() {
        return true;
    }

    /** q = u − 8, the scale d·scale and the offset 8·d·scale − dmin·min. */
    @Override
    public void decodeRowInt(int row, short[] q, int qOffset, float[] scales, float[] offsets, int gOffset) {
        nibblesAsShorts(row, q, qOffset);
        for (int g = 0; g < groups(cols); g++) {
            long group = group(row, g);
            FloatVector superBlocks = FloatVector.fromMemorySegment(F, data, group, ByteOrder.LITTLE_ENDIAN);
            ByteVector blockScales = ByteVector.fromMemorySegment(B_HALF, data, group + LANES, ByteOrder.LITTLE_ENDIAN);
            ByteVector mins = ByteVector.fromMemorySegment(B_HALF, data, group + 2L * LANES, ByteOrder.LITTLE_ENDIAN);
            FloatVector d0 = superBlocks.rearrange(D_LOW)
                    .mul((FloatVector) blockScales.convertShape(VectorOperators.B2F, F, 0));
            FloatVector d1 = superBlocks.rearrange(D_HIGH)
                    .mul((FloatVector) blockScales.convertShape(VectorOperators.B2F, F, 1));
            FloatVector m0 = superBlocks.rearrange(M_LOW)
                    .mul((FloatVector) mins.convertShape(VectorOperators.B2F, F, 0));
            FloatVector m1 = superBlocks.rearrange(M_HIGH)
                    .mul((FloatVector) mins.convertShape(VectorOperators.B2F, F, 1));
            int at = gOffset + g * LANES;
            d0.intoArray(scales, at);
            d1.intoArray(scales, at + L);
            d0.mul(8f).add(m0).intoArray(offsets, at);
            d1.mul(8f).add(m1).intoArray(offsets, at + L);
        }
        for (int b = groups(cols) * LANES; b < cols / QK; b++) {
            float d = scale(row, b);
            scales[gOffset + b] = d;
            offsets[gOffset + b] = 8 * d + minimum(row, b);
        }
    }

    /** The same order as {@link Q4_1PackedTensor}'s: both keep value j and j + 16 of a block in one byte. */
    @Override
    int[] storedOrder(int cols) {
        return nibbleOrder(cols);
    }

    @Override
    void dequantizeBlock(int row, int b, float[] out, int outOffset) {
        float d = scale(row, b);
        float m = minimum(row, b);
        for (int j = 0; j < STEPS; j++) {
            int q = nibbleByte(row, b, j);
            out[outOffset + j] = d * (q & 0x0f) + m;
            out[outOffset + j + STEPS] = d * (q >>> 4) + m;
        }
    }
}
