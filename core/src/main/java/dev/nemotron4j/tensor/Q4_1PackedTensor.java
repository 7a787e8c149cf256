package dev.nemotron4j.tensor;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShuffle;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;

import static dev.nemotron4j.tensor.Simd.B_HALF;
import static dev.nemotron4j.tensor.Simd.F;
import static dev.nemotron4j.tensor.Simd.I;
import static dev.nemotron4j.tensor.Simd.L;
import static dev.nemotron4j.tensor.Simd.S_FULL;

/**
 * {@link Q4_1Tensor Q4_1} {@link PackedTensor packed} for decode. A group of LANES blocks is 20·LANES bytes: the
 * LANES f16 scales d (in pairs), the LANES f16 minimums m (in pairs), then 16 steps of LANES bytes, where byte k of
 * step j is byte j of block k's qs with its high nibble's top bit flipped. Read as a signed byte b, the low nibble
 * {@code b & 15} is u of value j and {@code b >> 4} is u − 8 of value j + 16, so both come out in one op each; the
 * sums start at {@link Q8Activations#lowOffsets −8·Σ q} of the low half, so that a block's Σ (u − 8)·q is exact in
 * 16-bit lanes. With unsigned nibbles u a value is d·u + m, and a block's dot product with activations of scale e is
 * e·(d·Σ (u − 8)·q + (8d + m)·Σ q).
 */
public final class Q4_1PackedTensor extends PackedTensor {
    private static final int BLOCK_BYTES = 20;
    private static final int STEPS = QK / 2;

    private Q4_1PackedTensor(MemorySegment data, int rows, int cols) {
        super(data, rows, cols, BLOCK_BYTES, 4, 0x80);
    }

    @Override
    public GGMLType type() {
        return GGMLType.Q4_1;
    }

    /** A view of bytes {@link #pack} wrote. */
    public static Q4_1PackedTensor of(MemorySegment data, int rows, int cols) {
        return new Q4_1PackedTensor(data, rows, cols);
    }

    /** Packs rows [from, to) of {@code source} into {@code dst}, which may be the source's own memory. */
    public static void pack(Q4_1Tensor source, MemorySegment dst, int from, int to) {
        pack(rowsOf(source), source.cols(), dst, from, to, BLOCK_BYTES, STEPS, 0x80);
    }

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
            // The step loop is written out here and in Q4_K's: as a method returning a vector it was not always
            // inlined into the model's matmul, and the boxed vector cut decode speed by four.
            for (int j = 0; j < STEPS; j++) {
                ShortVector q = (ShortVector) ByteVector.fromMemorySegment(B_HALF, data,
                                group + 4L * LANES + (long) j * LANES, ByteOrder.LITTLE_ENDIAN)
                        .convertShape(VectorOperators.B2S, S_FULL, 0);
                sum = sum.add(q.and((short) 0x0f).mul(activations(x.values, xg + j * LANES)))
                        .add(q.lanewise(VectorOperators.ASHR, 4)
                                .mul(activations(x.values, xg + (j + STEPS) * LANES)));
            }
            FloatVector d0 = halvesLow(group);
            FloatVector d1 = halvesHigh(group);
            FloatVector c0 = d0.mul(8f).add(halvesLow(group + 2L * LANES));
            FloatVector c1 = d1.mul(8f).add(halvesHigh(group + 2L * LANES));
            acc0 = c0.fma(FloatVector.fromArray(F, x.sums, xs), acc0);
            acc1 = c1.fma(FloatVector.fromArray(F, x.sums, xs + L), acc1);
            acc0 = ((FloatVector) sum.convertShape(VectorOperators.S2I, I, 0).convert(VectorOperators.I2F, 0))
                    .fma(d0.mul(FloatVector.fromArray(F, x.scales, xs)), acc0);
            acc1 = ((FloatVector) sum.convertShape(VectorOperators.S2I, I, 1).convert(VectorOperators.I2F, 0))
                    .fma(d1.mul(FloatVector.fromArray(F, x.scales, xs + L)), acc1);
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
            ShortVector q = shorts16(block + 4);
            int sum = tailBlockDot(q.and((short) 0x0f).sub((short) 8),
                    q.lanewise(VectorOperators.LSHR, 4).and((short) 0x0f).sub((short) 8), x, t, b * QK);
            float d = Simd.f16(data, block);
            tail += d * x.scale(t, b) * sum + (8 * d + Simd.f16(data, block + 2)) * x.sum(t, b);
        }
        return tail;
    }

    @Override
    float dotScalar(int row, Q8Activations x, int t) {
        float sum = 0f;
        for (int b = 0; b < cols / QK; b++) {
            int weighted = 0;
            int plain = 0;
            for (int j = 0; j < STEPS; j++) {
                int q = sourceByte(row, b, j);
                weighted += (q & 0x0f) * x.value(t, b * QK + j) + (q >>> 4) * x.value(t, b * QK + j + STEPS);
                plain += x.value(t, b * QK + j) + x.value(t, b * QK + j + STEPS);
            }
            sum += x.scale(t, b) * (blockHalf(row, b, 0) * weighted + blockHalf(row, b, 1) * plain);
        }
        return sum;
    }

    /** Low nibbles give u, high ones u − 8, so those take 8d + m as their offset. */
    @Override
    public void dequantizeRowStored(int row, float[] out, int outOffset) {
        int groups = groups(cols);
        for (int g = 0; g < groups; g++) {
            long group = group(row, g);
            FloatVector d0 = halvesLow(group);
            FloatVector d1 = halvesHigh(group);
            FloatVector m0 = halvesLow(group + 2L * LANES);
            FloatVector m1 = halvesHigh(group + 2L * LANES);
            FloatVector c0 = d0.mul(8f).add(m0);
            FloatVector c1 = d1.mul(8f).add(m1);
            for (int j = 0; j < STEPS; j++) {
                long step = group + 4L * LANES + (long) j * LANES;
                IntVector v0 = (IntVector) ByteVector.fromMemorySegment(Simd.B_QUARTER, data, step,
                        ByteOrder.LITTLE_ENDIAN).convertShape(VectorOperators.B2I, I, 0);
                IntVector v1 = (IntVector) ByteVector.fromMemorySegment(Simd.B_QUARTER, data, step + L,
                        ByteOrder.LITTLE_ENDIAN).convertShape(VectorOperators.B2I, I, 0);
                int o = outOffset + g * QK * LANES + j * 2 * LANES;
                // conversions written out: a helper call here would hit C2's node count cutoff and not be inlined
                ((FloatVector) v0.and(0x0f).convert(VectorOperators.I2F, 0)).fma(d0, m0).intoArray(out, o);
                ((FloatVector) v1.and(0x0f).convert(VectorOperators.I2F, 0)).fma(d1, m1).intoArray(out, o + L);
                ((FloatVector) v0.lanewise(VectorOperators.ASHR, 4).convert(VectorOperators.I2F, 0)).fma(d0, c0)
                        .intoArray(out, o + LANES);
                ((FloatVector) v1.lanewise(VectorOperators.ASHR, 4).convert(VectorOperators.I2F, 0)).fma(d1, c1)
                        .intoArray(out, o + LANES + L);
            }
        }
        for (int b = groups * LANES; b < cols / QK; b++) {
            dequantizeBlock(row, b, out, outOffset + b * QK);
        }
    }

    /**
     * Values j and j + 16 of a block share a byte: stored position g·32·LANES + j·2·LANES + k is value j of block
     * g·LANES + k, and + LANES value j + 16; tail blocks in column order.
     */
    @Override
    int[] storedOrder(int cols) {
        int[] order = new int[cols];
        for (int c = 0; c < cols; c++) {
            order[c] = c;
        }
        for (int g = 0; g < groups(cols); g++) {
            for (int j = 0; j < QK / 2; j++) {
                for (int k = 0; k < LANES; k++) {
                    int column = (g * LANES + k) * QK + j;
                    int p = g * QK * LANES + j * 2 * LANES + k;
                    order[p] = column;
                    order[p + LANES] = column + QK / 2;
                }
            }
        }
        return order;
    }

    @Override
    void dequantizeBlock(int row, int b, float[] out, int outOffset) {
        float d = blockHalf(row, b, 0);
        float m = blockHalf(row, b, 1);
        for (int j = 0; j < STEPS; j++) {
            int q = sourceByte(row, b, j);
            out[outOffset + j] = d * (q & 0x0f) + m;
            out[outOffset + j + STEPS] = d * (q >>> 4) + m;
        }
    }
}
