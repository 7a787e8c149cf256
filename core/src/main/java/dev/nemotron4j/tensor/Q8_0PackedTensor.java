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
 * {@link Q8_0Tensor Q8_0} {@link PackedTensor packed} for decode. A group of LANES blocks is 34·LANES bytes: the
 * LANES f16 scales (in pairs), then 32 steps of LANES bytes, byte k of step j being value j of block k. Two steps'
 * products add up to at most 2·128·127 in magnitude, exact in 16 bits; each such pair is widened to 32-bit sums.
 */
public final class Q8_0PackedTensor extends PackedTensor {
    private static final int BLOCK_BYTES = 34;

    private Q8_0PackedTensor(MemorySegment data, int rows, int cols) {
        super(data, rows, cols, BLOCK_BYTES, 2, 0);
    }

    @Override
    public GGMLType type() {
        return GGMLType.Q8_0;
    }

    /** A view of bytes {@link #pack} wrote. */
    public static Q8_0PackedTensor of(MemorySegment data, int rows, int cols) {
        return new Q8_0PackedTensor(data, rows, cols);
    }

    /** Packs rows [from, to) of {@code source} into {@code dst}, which may be the source's own memory. */
    public static void pack(Q8_0Tensor source, MemorySegment dst, int from, int to) {
        pack(rowsOf(source), source.cols(), dst, from, to, BLOCK_BYTES, QK, 0);
    }

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
            IntVector sum0 = IntVector.zero(I);
            IntVector sum1 = sum0;
            for (int j = 0; j < QK; j += 2) {
                ShortVector pair = step(group, j).mul(activations(values, xg + j * LANES))
                        .add(step(group, j + 1).mul(activations(values, xg + (j + 1) * LANES)));
                sum0 = sum0.add((IntVector) pair.convertShape(VectorOperators.S2I, I, 0));
                sum1 = sum1.add((IntVector) pair.convertShape(VectorOperators.S2I, I, 1));
            }
            int xs = t * blocks + g * LANES;
            FloatVector d0 = halvesLow(group).mul(FloatVector.fromArray(F, x.scales, xs));
            FloatVector d1 = halvesHigh(group).mul(FloatVector.fromArray(F, x.scales, xs + L));
            acc0 = ((FloatVector) sum0.convert(VectorOperators.I2F, 0)).fma(d0, acc0);
            acc1 = ((FloatVector) sum1.convert(VectorOperators.I2F, 0)).fma(d1, acc1);
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
            int sum = tailBlockDot(shorts16(block + 2), shorts16(block + 2 + QK / 2), x, t, b * QK);
            tail += Simd.f16(data, block) * x.scale(t, b) * sum;
        }
        return tail;
    }

    /** Value j of every block of the group, one per lane. */
    private ShortVector step(long group, int j) {
        return (ShortVector) ByteVector.fromMemorySegment(B_HALF, data, group + 2L * LANES + (long) j * LANES,
                ByteOrder.LITTLE_ENDIAN).convertShape(VectorOperators.B2S, S_FULL, 0);
    }

    @Override
    float dotScalar(int row, Q8Activations x, int t) {
        float sum = 0f;
        for (int b = 0; b < cols / QK; b++) {
            int blockSum = 0;
            for (int j = 0; j < QK; j++) {
                blockSum += (byte) sourceByte(row, b, j) * x.value(t, b * QK + j);
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
            for (int j = 0; j < QK; j++) {
                long step = group + 2L * LANES + (long) j * LANES;
                int o = outOffset + g * QK * LANES + j * LANES;
                Simd.toFloats((IntVector) ByteVector.fromMemorySegment(Simd.B_QUARTER, data, step,
                        ByteOrder.LITTLE_ENDIAN).convertShape(VectorOperators.B2I, I, 0)).mul(d0).intoArray(out, o);
                Simd.toFloats((IntVector) ByteVector.fromMemorySegment(Simd.B_QUARTER, data, step + L,
                        ByteOrder.LITTLE_ENDIAN).convertShape(VectorOperators.B2I, I, 0)).mul(d1).intoArray(out, o + L);
            }
        }
        for (int b = groups * LANES; b < cols / QK; b++) {
            dequantizeBlock(row, b, out, outOffset + b * QK);
        }
    }

    /** Stored position g·32·LANES + j·LANES + k is value j of block g·LANES + k; tail blocks are in column order. */
    @Override
    int[] storedOrder(int cols) {
        return valueOrder(cols);
    }

    @Override
    void dequantizeBlock(int row, int b, float[] out, int outOffset) {
        float d = blockScale(row, b);
        for (int j = 0; j < QK; j++) {
            out[outOffset + j] = d * (byte) sourceByte(row, b, j);
        }
    }
}
