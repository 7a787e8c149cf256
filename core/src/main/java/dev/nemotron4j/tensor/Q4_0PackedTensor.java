package dev.nemotron4j.tensor;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;

import static dev.nemotron4j.tensor.Simd.B_HALF;
import static dev.nemotron4j.tensor.Simd.F;
import static dev.nemotron4j.tensor.Simd.I;
import static dev.nemotron4j.tensor.Simd.L;
import static dev.nemotron4j.tensor.Simd.S_FULL;

/**
 * {@link Q4_0Tensor Q4_0} {@link PackedTensor packed} for decode. A group of LANES blocks is 18·LANES bytes: the
 * LANES f16 scales (in pairs), then 16 steps of LANES bytes, where byte k of step j is byte j of block k's qs with its
 * high nibble's top bit flipped. Read as a signed byte b, the low nibble {@code b & 15} is value j of the block plus
 * 8 and {@code b >> 4} is value j+16 itself, so both come out in one op each; the +8 of the low half is taken back
 * by starting each block's sum at {@link Q8Activations#lowOffsets −8·Σ q}. A block's sum then stays within ±32512,
 * so it is exact in 16-bit lanes.
 */
public final class Q4_0PackedTensor extends PackedTensor implements IntegerRows {
    private static final int BLOCK_BYTES = 18;
    private static final int STEPS = QK / 2;

    private Q4_0PackedTensor(MemorySegment data, int rows, int cols) {
        super(data, rows, cols, BLOCK_BYTES, 2, 0x80);
    }

    @Override
    public GGMLType type() {
        return GGMLType.Q4_0;
    }

    /** A view of bytes {@link #pack} wrote. */
    public static Q4_0PackedTensor of(MemorySegment data, int rows, int cols) {
        return new Q4_0PackedTensor(data, rows, cols);
    }

    /** Packs rows [from, to) of {@code source} into {@code dst}, which may be the source's own memory. */
    public static void pack(Q4_0Tensor source, MemorySegment dst, int from, int to) {
        pack(rowsOf(source), source.cols(), dst, from, to, BLOCK_BYTES, STEPS, 0x80);
    }

    /**
     * The step loop is written out here and in {@link Q4_1PackedTensor} rather than shared: as a method returning a
     * vector it was not always inlined into the model's matmul, and the boxed vector cut decode speed by four.
     */
    @Override
    float groupsDot(int row, Q8Activations x, int t) {
        int groups = groups(cols);
        int blocks = cols / QK;
        byte[] values = x.values;
        FloatVector acc0 = FloatVector.zero(F);
        FloatVector acc1 = acc0;
        for (int g = 0; g < groups; g++) {
            long group = group(row, g);
            int xg = t * cols + g * QK * LANES;
            int xs = t * blocks + g * LANES;
            ShortVector sum = ShortVector.fromArray(S_FULL, x.lowOffsets, xs);
            for (int j = 0; j < STEPS; j++) {
                ShortVector q = (ShortVector) ByteVector.fromMemorySegment(B_HALF, data,
                                group + 2L * LANES + (long) j * LANES, ByteOrder.LITTLE_ENDIAN)
                        .convertShape(VectorOperators.B2S, S_FULL, 0);
                sum = sum.add(q.and((short) 0x0f).mul(activations(values, xg + j * LANES)))
                        .add(q.lanewise(VectorOperators.ASHR, 4)
                                .mul(activations(values, xg + (j + STEPS) * LANES)));
            }
            FloatVector d0 = halvesLow(group).mul(FloatVector.fromArray(F, x.scales, xs));
            FloatVector d1 = halvesHigh(group).mul(FloatVector.fromArray(F, x.scales, xs + L));
            acc0 = ((FloatVector) sum.convertShape(VectorOperators.S2I, I, 0).convert(VectorOperators.I2F, 0))
                    .fma(d0, acc0);
            acc1 = ((FloatVector) sum.convertShape(VectorOperators.S2I, I, 1).convert(VectorOperators.I2F, 0))
                    .fma(d1, acc1);
        }
        return acc0.add(acc1).reduceLanes(VectorOperators.ADD);
    }

    /**
     * Four vectors at a time when there are four (batched decode): each step's weights are widened and split into
     * nibbles once for all four (a third of the ops of one vector's step; 1.24× the vector-weights per second).
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
                                group + 2L * LANES + (long) j * LANES, ByteOrder.LITTLE_ENDIAN)
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
            // halvesLow and halvesHigh written out: C2 inlines no more of this method's own calls (its node budget),
            // and boxed the vectors they returned.
            IntVector pairs = IntVector.fromMemorySegment(I, data, group, ByteOrder.LITTLE_ENDIAN);
            FloatVector d0 = pairs.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 3)
                    .and(Simd.HALF_MASK).reinterpretAsFloats().mul(Simd.HALF_REBIAS);
            FloatVector d1 = pairs.lanewise(VectorOperators.ASHR, 3).and(Simd.HALF_MASK).reinterpretAsFloats()
                    .mul(Simd.HALF_REBIAS);
            a0 = ((FloatVector) sum0.convertShape(VectorOperators.S2I, I, 0).convert(VectorOperators.I2F, 0))
                    .fma(d0.mul(FloatVector.fromArray(F, x.scales, s0)), a0);
            a0 = ((FloatVector) sum0.convertShape(VectorOperators.S2I, I, 1).convert(VectorOperators.I2F, 0))
                    .fma(d1.mul(FloatVector.fromArray(F, x.scales, s0 + L)), a0);
            a1 = ((FloatVector) sum1.convertShape(VectorOperators.S2I, I, 0).convert(VectorOperators.I2F, 0))
                    .fma(d0.mul(FloatVector.fromArray(F, x.scales, s0 + blocks)), a1);
            a1 = ((FloatVector) sum1.convertShape(VectorOperators.S2I, I, 1).convert(VectorOperators.I2F, 0))
                    .fma(d1.mul(FloatVector.fromArray(F, x.scales, s0 + blocks + L)), a1);
            a2 = ((FloatVector) sum2.convertShape(VectorOperators.S2I, I, 0).convert(VectorOperators.I2F, 0))
                    .fma(d0.mul(FloatVector.fromArray(F, x.scales, s0 + 2 * blocks)), a2);
            a2 = ((FloatVector) sum2.convertShape(VectorOperators.S2I, I, 1).convert(VectorOperators.I2F, 0))
                    .fma(d1.mul(FloatVector.fromArray(F, x.scales, s0 + 2 * blocks + L)), a2);
            a3 = ((FloatVector) sum3.convertShape(VectorOperators.S2I, I, 0).convert(VectorOperators.I2F, 0))
                    .fma(d0.mul(FloatVector.fromArray(F, x.scales, s0 + 3 * blocks)), a3);
            a3 = ((FloatVector) sum3.convertShape(VectorOperators.S2I, I, 1).convert(VectorOperators.I2F, 0))
                    .fma(d1.mul(FloatVector.fromArray(F, x.scales, s0 + 3 * blocks + L)), a3);
        }
        out[t * rows + row] = a0.reduceLanes(VectorOperators.ADD);
        out[(t + 1) * rows + row] = a1.reduceLanes(VectorOperators.ADD);
        out[(t + 2) * rows + row] = a2.reduceLanes(VectorOperators.ADD);
        out[(t + 3) * rows + row] = a3.reduceLanes(VectorOperators.ADD);
        return 4;
    }

    @Override
    float tailDot(int row, Q8Activations x, int t) {
        int blocks = cols / QK;
        float tail = 0f;
        for (int b = groups(cols) * LANES; b < blocks; b++) {
            long block = tailBlock(row, b);
            ShortVector q = shorts16(block + 2);
            int sum = tailBlockDot(q.and((short) 0x0f).sub((short) 8),
                    q.lanewise(VectorOperators.LSHR, 4).and((short) 0x0f).sub((short) 8), x, t, b * QK);
            tail += Simd.f16(data, block) * x.scale(t, b) * sum;
        }
        return tail;
    }

    @Override
    float dotScalar(int row, Q8Activations x, int t) {
        float sum = 0f;
        for (int b = 0; b < cols / QK; b++) {
            int blockSum = 0;
            for (int j = 0; j < STEPS; j++) {
                int q = sourceByte(row, b, j);
                blockSum += ((q & 0x0f) - 8) * x.value(t, b * QK + j);
                blockSum += ((q >>> 4) - 8) * x.value(t, b * QK + j + STEPS);
            }
            sum += blockScale(row, b) * x.scale(t, b) * blockSum;
        }
        return sum;
    }

    @Override
    public void dequantizeRowStored(int row, float[] out, int outOffset) {
        int groups = groups(cols);
        for (int g = 0; g < groups; g++) {
            long group = group(row, g);
            // Two locals, not an array: vectors kept in an array are boxed.
            FloatVector d0 = halvesLow(group);
            FloatVector d1 = halvesHigh(group);
            for (int j = 0; j < STEPS; j++) {
                long step = group + 2L * LANES + (long) j * LANES;
                int o = outOffset + g * QK * LANES + j * 2 * LANES;
                IntVector v0 = (IntVector) ByteVector.fromMemorySegment(Simd.B_QUARTER, data, step,
                        ByteOrder.LITTLE_ENDIAN).convertShape(VectorOperators.B2I, I, 0);
                IntVector v1 = (IntVector) ByteVector.fromMemorySegment(Simd.B_QUARTER, data, step + L,
                        ByteOrder.LITTLE_ENDIAN).convertShape(VectorOperators.B2I, I, 0);
                Simd.toFloats(v0.and(0x0f).sub(8)).mul(d0).intoArray(out, o);
                Simd.toFloats(v0.lanewise(VectorOperators.ASHR, 4)).mul(d0).intoArray(out, o + LANES);
                Simd.toFloats(v1.and(0x0f).sub(8)).mul(d1).intoArray(out, o + L);
                Simd.toFloats(v1.lanewise(VectorOperators.ASHR, 4)).mul(d1).intoArray(out, o + LANES + L);
            }
        }
        for (int b = groups * LANES; b < cols / QK; b++) {
            dequantizeBlock(row, b, out, outOffset + b * QK);
        }
    }

    @Override
    public boolean intOffsets() {
        return false;
    }

    /** q = nibble − 8, the scale d. */
    @Override
    public void decodeRowInt(int row, short[] q, int qOffset, float[] scales, float[] offsets, int gOffset) {
        nibblesAsShorts(row, q, qOffset);
        for (int g = 0; g < groups(cols); g++) {
            long group = group(row, g);
            halvesLow(group).intoArray(scales, gOffset + g * LANES);
            halvesHigh(group).intoArray(scales, gOffset + g * LANES + L);
        }
        for (int b = groups(cols) * LANES; b < cols / QK; b++) {
            scales[gOffset + b] = blockScale(row, b);
        }
    }

    /**
     * Stored position g·32·LANES + j·2·LANES + k is value j of block g·LANES + k, and + LANES value j + 16; tail
     * blocks are in column order.
     */
    @Override
    int[] storedOrder(int cols) {
        return nibbleOrder(cols);
    }

    static int[] nibbleOrder(int cols) {
        int[] order = new int[cols];
        for (int c = 0; c < cols; c++) {
            order[c] = c;
        }
        for (int g = 0; g < groups(cols); g++) {
            for (int j = 0; j < STEPS; j++) {
                for (int k = 0; k < LANES; k++) {
                    int column = (g * LANES + k) * QK + j;
                    int p = g * QK * LANES + j * 2 * LANES + k;
                    order[p] = column;
                    order[p + LANES] = column + STEPS;
                }
            }
        }
        return order;
    }

    @Override
    void dequantizeBlock(int row, int b, float[] out, int outOffset) {
        float d = blockScale(row, b);
        for (int j = 0; j < STEPS; j++) {
            int q = sourceByte(row, b, j);
            out[outOffset + j] = d * ((q & 0x0f) - 8);
            out[outOffset + j + STEPS] = d * ((q >>> 4) - 8);
        }
    }
}
