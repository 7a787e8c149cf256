package dev.nemotron4j.tensor;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;

import java.util.stream.IntStream;

import static dev.nemotron4j.tensor.Simd.B_HALF;
import static dev.nemotron4j.tensor.Simd.B_QUARTER;
import static dev.nemotron4j.tensor.Simd.F;
import static dev.nemotron4j.tensor.Simd.I;
import static dev.nemotron4j.tensor.Simd.L;
import static dev.nemotron4j.tensor.Simd.S_FULL;

/**
 * Activation vectors quantized to 8-bit blocks of 32 (as ggml's Q8_0: d = max|x|/127, q = round(x/d)), laid out for
 * the {@link PackedTensor packed} weight formats: the blocks of a group of {@link PackedTensor#LANES} blocks are
 * interleaved, so that one vector load gives value j of every block of the group, one block per lane, exactly like the
 * packed weights; blocks after the last whole group (the tail) keep column order. Values stay bytes, widened to shorts
 * as they are loaded: that costs an op per load but halves what must stay in L1 across a row (as shorts, a 9216-wide
 * row ran at 60 % of the speed of a 3072-wide one). Reused across matmuls.
 */
public final class Q8Activations {
    public static final int QK = 32;
    private static final FloatVector HALF = FloatVector.broadcast(F, 0.5f);
    private static final FloatVector MINUS_HALF = FloatVector.broadcast(F, -0.5f);

    private int n;
    private int cols;
    /**
     * Vector t takes values[t·cols …]: value j of block g·LANES + k of a whole group at g·32·LANES + j·LANES + k, a
     * tail value at its column.
     */
    byte[] values = new byte[0];
    /** scales[t·blocks + b] = d of block b of vector t. */
    float[] scales = new float[0];
    /** lowOffsets[t·blocks + b] = −8 · Σ_{j<16} q_j of the block: Q4_1's nibble offset applied to its low half. */
    short[] lowOffsets = new short[0];
    /** q4Offsets[t·blocks + b] = −8 · Σ q of the block: the nibble offset of Q4_0's and Q4_K's four-row layout. */
    short[] q4Offsets = new short[0];
    /**
     * q5Offsets[(3t + w)·blocks + b] = −16 · Σ q_j over values [15w, 15w + 15) of the block (w = 2: values 30 and 31):
     * Q5_K's centring of the values it adds up in window w.
     */
    short[] q5Offsets = new short[0];
    /** sums[t·blocks + b] = d · Σ q of the block: the sum of its values, for Q4_1's minimums. */
    float[] sums = new float[0];
    /**
     * q6Offsets[(4t + o)·blocks + b] = −32 · Σ q_j over octet o (values [8o, 8o + 8)) of the block: Q6_K's centring
     * of the values it adds up eight at a time.
     */
    short[] q6Offsets = new short[0];
    private final int[] block = new int[QK];
    private final float[] inverses = new float[PackedTensor.LANES];
    /** Offsets of value 0 of L consecutive blocks: a gather of value j of each. */
    private static final int[] BLOCK_STARTS = IntStream.range(0, L).map(k -> k * QK).toArray();

    public int vectors() {
        return n;
    }

    public int cols() {
        return cols;
    }

    /** Quantizes the {@code n} vectors x_t = x[t·cols …]; cols must be a whole number of blocks. */
    public void quantize(float[] x, int n, int cols) {
        if (cols % QK != 0) {
            throw new IllegalArgumentException("activations are quantized in blocks of " + QK + ", got " + cols);
        }
        this.n = n;
        this.cols = cols;
        int blocks = cols / QK;
        if (values.length < n * cols) {
            values = new byte[n * cols];
            scales = new float[n * blocks];
            lowOffsets = new short[n * blocks];
            q4Offsets = new short[n * blocks];
            q5Offsets = new short[3 * n * blocks];
            sums = new float[n * blocks];
            q6Offsets = new short[4 * n * blocks];
        }
        int groups = PackedTensor.groups(cols);
        for (int t = 0; t < n; t++) {
            for (int g = 0; g < groups; g++) {
                quantizeGroup(x, t, g);
                groupSums(t, g);
            }
            for (int b = groups * PackedTensor.LANES; b < blocks; b++) {
                quantizeBlock(x, t * cols + b * QK, t, b);
                blockSums(t, b);
            }
        }
    }

    /**
     * Quantizes whole group g of vector t straight into its steps: step j gathers value j of the group's blocks, one
     * per lane, so no block is written value by value (a 3072-wide vector, sums included, 4.6 → 2.5 µs).
     */
    private void quantizeGroup(float[] x, int t, int g) {
        int lanes = PackedTensor.LANES;
        int blocks = cols / QK;
        int first = t * cols + g * QK * lanes;
        int at = t * blocks + g * lanes;
        for (int k = 0; k < lanes; k++) {
            float d = blockScale(x, first + k * QK);
            scales[at + k] = d;
            inverses[k] = d != 0f ? 1f / d : 0f;
        }
        for (int part = 0; part < lanes; part += L) {
            FloatVector id = FloatVector.fromArray(F, inverses, part);
            int from = first + part * QK;
            for (int j = 0; j < QK; j++) {
                IntVector q = rounded(FloatVector.fromArray(F, x, from + j, BLOCK_STARTS, 0).mul(id));
                ((ByteVector) q.convertShape(VectorOperators.I2B, B_QUARTER, 0)).intoArray(values,
                        first + j * lanes + part);
            }
        }
    }

    /** d = max|x|/127 of the block of 32 values at {@code offset}. */
    public static float blockScale(float[] x, int offset) {
        FloatVector max = FloatVector.zero(F);
        for (int j = 0; j < QK; j += L) {
            max = max.max(FloatVector.fromArray(F, x, offset + j).abs());
        }
        return max.reduceLanes(VectorOperators.MAX) / 127f;
    }

    /** x/d rounded half away from zero, as ggml's roundf: the scalar reference of {@link #roundBlock}. */
    public static int round(float scaled) {
        return (int) (scaled + Math.copySign(0.5f, scaled));
    }

    /** q[j] = round(x[offset + j] · id) for the 32 values of a block, with vectors. */
    public static void roundBlock(float[] x, int offset, float id, int[] q) {
        for (int j = 0; j < QK; j += L) {
            rounded(FloatVector.fromArray(F, x, offset + j).mul(id)).intoArray(q, j);
        }
    }

    /** Half away from zero, then truncation as the int conversion does. */
    private static IntVector rounded(FloatVector scaled) {
        return (IntVector) scaled.add(HALF.blend(MINUS_HALF, scaled.lt(0f))).convert(VectorOperators.F2I, 0);
    }

    /** Quantizes block b of vector t, a tail block, value by value. */
    private void quantizeBlock(float[] x, int offset, int t, int b) {
        float d = blockScale(x, offset);
        roundBlock(x, offset, d != 0f ? 1f / d : 0f, block);
        int first = index(t, b * QK);
        int stride = index(t, b * QK + 1) - first;
        for (int j = 0; j < QK; j++) {
            values[first + j * stride] = (byte) block[j];
        }
        scales[t * (cols / QK) + b] = d;
    }

    /**
     * The offsets and sum of block b of vector t from its quantized values, one block at a time: the tail blocks', and
     * the scalar reference of {@link #groupSums}.
     */
    void blockSums(int t, int b) {
        int first = index(t, b * QK);
        int stride = index(t, b * QK + 1) - first;
        for (int j = 0; j < QK; j++) {
            block[j] = values[first + j * stride];
        }
        // The sums over Q5_K's windows [0, 15), [15, 30) and [30, 32) make up the others.
        int first15 = 0;
        int second15 = 0;
        for (int j = 0; j < 15; j++) {
            first15 += block[j];
            second15 += block[j + 15];
        }
        int last2 = block[30] + block[31];
        int lowSum = first15 + block[15];
        int sum = first15 + second15 + last2;
        int blocks = cols / QK;
        lowOffsets[t * blocks + b] = (short) (-8 * lowSum);
        q4Offsets[t * blocks + b] = (short) (-8 * sum);
        q5Offsets[3 * t * blocks + b] = (short) (-16 * first15);
        q5Offsets[(3 * t + 1) * blocks + b] = (short) (-16 * second15);
        q5Offsets[(3 * t + 2) * blocks + b] = (short) (-16 * last2);
        sums[t * blocks + b] = scales[t * blocks + b] * sum;
        for (int o = 0; o < 4; o++) {
            int octet = 0;
            for (int j = 8 * o; j < 8 * o + 8; j++) {
                octet += block[j];
            }
            q6Offsets[(4 * t + o) * blocks + b] = (short) (-32 * octet);
        }
    }

    /**
     * {@link #blockSums} for the blocks of whole group g of vector t at once, one block per lane: step j of the group
     * holds value j of each. Running sums of the steps stay within shorts (32 · 127), and so do the offsets made of
     * them. Block by block, the scalar sums took about half of a 3072-wide vector's quantization.
     */
    private void groupSums(int t, int g) {
        int lanes = PackedTensor.LANES;
        int blocks = cols / QK;
        int steps = t * cols + g * QK * lanes;
        int at = t * blocks + g * lanes;
        ShortVector running = ShortVector.zero(S_FULL);
        ShortVector octetStart = running;
        ShortVector first15 = running;
        ShortVector first30 = running;
        for (int j = 0; j < QK; j++) {
            running = running.add((ShortVector) ByteVector.fromArray(B_HALF, values, steps + j * lanes)
                    .convertShape(VectorOperators.B2S, S_FULL, 0));
            if (j == 14) {
                first15 = running;
            } else if (j == 15) {
                running.mul((short) -8).intoArray(lowOffsets, at);
            } else if (j == 29) {
                first30 = running;
            }
            if (j % 8 == 7) {
                running.sub(octetStart).mul((short) -32).intoArray(q6Offsets, (4 * t + j / 8) * blocks + g * lanes);
                octetStart = running;
            }
        }
        running.mul((short) -8).intoArray(q4Offsets, at);
        first15.mul((short) -16).intoArray(q5Offsets, 3 * t * blocks + g * lanes);
        first30.sub(first15).mul((short) -16).intoArray(q5Offsets, (3 * t + 1) * blocks + g * lanes);
        running.sub(first30).mul((short) -16).intoArray(q5Offsets, (3 * t + 2) * blocks + g * lanes);
        for (int part = 0; part < 2; part++) {
            ((FloatVector) running.convertShape(VectorOperators.S2I, I, part).convert(VectorOperators.I2F, 0))
                    .mul(FloatVector.fromArray(F, scales, at + part * L)).intoArray(sums, at + part * L);
        }
    }

    /** Index in {@link #values} of column c of vector t. */
    int index(int t, int c) {
        int lanes = PackedTensor.LANES;
        int b = c / QK;
        if (b >= PackedTensor.groups(cols) * lanes) {
            return t * cols + c;
        }
        return t * cols + (b / lanes) * QK * lanes + (c % QK) * lanes + b % lanes;
    }

    /** q of column {@code c} of vector {@code t}, for the scalar references. */
    int value(int t, int c) {
        return values[index(t, c)];
    }

    float scale(int t, int b) {
        return scales[t * (cols / QK) + b];
    }

    float sum(int t, int b) {
        return sums[t * (cols / QK) + b];
    }
}
