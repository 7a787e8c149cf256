package dev.nemotron4j.tensor;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShuffle;

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
 * {@link Q4_KTensor Q4_K} {@link PackedTensor packed} for decode, 19 bytes per 32 values against Q4_K's 18, four rows
 * together as {@link Q4_0PackedTensor Q4_0} keeps them. Each sub-block of 32 values is a block of unsigned nibbles u
 * with value d·scale·u − dmin·min. A quad group of LANES blocks is 32 steps of LANES shorts as Q4_0's, then the four
 * rows' {@link KPackedTensor headers} (3 bytes per block each): a block is the Q4_1 block d·scale,
 * m = −dmin·min, taken exactly, and its dot product with activations of scale e is e·(d·Σ (u − 8)·q + (8d + m)·Σ q),
 * the integer sum recovered exactly as Q4_0's. The four rows' tail super-blocks follow their groups in Q4_K's 144
 * bytes, row after row; a last quad of fewer rows is padded with zero headers.
 */
public final class Q4_KPackedTensor extends KPackedTensor implements IntegerRows, PackedTensor.Quads {
    private static final int BLOCK_BYTES = 19;
    private static final int HEADER_BYTES = 3;
    private static final int SOURCE_BYTES = 144;

    private final long quadGroupBytes = QUAD * groupBytes;
    /** Bytes of a row's tail super-blocks. */
    private final long tailBytes = rowBytes - groups(cols) * groupBytes;

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

    /** Bytes the packed form of a rows × cols matrix takes: whole quads. */
    public static long byteSize(int rows, int cols) {
        return (rows + QUAD - 1) / QUAD * QUAD * rowBytes(cols, BLOCK_BYTES, SOURCE_BYTES);
    }

    /**
     * Converts the quads of rows [from, to) of {@code source} into {@code dst}; {@code from} must start a quad and
     * {@code to} end one or the matrix. Each row is packed alone first (header, then Q4_1's byte steps), then the four
     * rows' steps are merged into shorts.
     */
    public static void pack(Q4_KTensor source, MemorySegment dst, int from, int to) {
        int cols = source.cols();
        int rowBytes = (int) rowBytes(cols, BLOCK_BYTES, SOURCE_BYTES);
        int groups = groups(cols);
        int groupBytes = BLOCK_BYTES * LANES;
        int tailBytes = rowBytes - groups * groupBytes;
        byte[] alone = new byte[QUAD * rowBytes];
        byte[][] rows = new byte[QUAD][rowBytes];
        byte[] out = new byte[QUAD * rowBytes];
        for (int r0 = from; r0 < to; r0 += QUAD) {
            int count = Math.min(QUAD, source.rows() - r0);
            WeightTensor quad = WeightTensor.of(GGMLType.Q4_K, source.data().asSlice(r0 * source.rowBytes,
                    count * source.rowBytes), count, cols);
            pack(quad, MemorySegment.ofArray(alone), 0, count, BLOCK_BYTES, HEADER_BYTES, QK / 2, SOURCE_BYTES,
                    (q4k, block, sb, steps, row) -> {
                        for (int s = 0; s < SUB; s++) {
                            mergeNibbles(q4k, block, s, steps, (sb * SUB + s) * BLOCK_BYTES + HEADER_BYTES);
                        }
                    });
            for (int i = 0; i < QUAD; i++) {
                if (i < count) {
                    System.arraycopy(alone, i * rowBytes, rows[i], 0, rowBytes);
                } else {
                    Arrays.fill(rows[i], (byte) 0); // zero d and dmin: every value 0
                }
            }
            for (int g = 0; g < groups; g++) {
                int group = g * QUAD * groupBytes;
                for (int i = 0; i < QUAD; i++) {
                    System.arraycopy(rows[i], g * groupBytes, out, group + STEPS_BYTES + i * HEADER_BYTES * LANES,
                            HEADER_BYTES * LANES);
                }
                quadSteps(rows, g * groupBytes + HEADER_BYTES * LANES, 0x80, out, group);
            }
            for (int i = 0; i < QUAD; i++) {
                System.arraycopy(rows[i], groups * groupBytes, out, groups * QUAD * groupBytes + i * tailBytes,
                        tailBytes);
            }
            MemorySegment.copy(out, 0, dst, ValueLayout.JAVA_BYTE, (long) r0 * rowBytes, QUAD * rowBytes);
        }
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

    /**
     * Rows r0 … r0+3 · vector t over the whole groups, into out: Q4_0's step loop and integer sums, then per row the
     * block scales and minimums formed from its header. Written out, as there.
     */
    @Override
    public void quadDot(int r0, Q8Activations x, int t, float[] out) {
        int groups = groups(cols);
        int blocks = cols / QK;
        byte[] values = x.values;
        long quad = rowOffset(r0);
        FloatVector a0 = FloatVector.zero(F);
        FloatVector a1 = a0;
        FloatVector a2 = a0;
        FloatVector a3 = a0;
        for (int g = 0; g < groups; g++) {
            long group = quad + g * quadGroupBytes;
            int xg = t * cols + g * QK * LANES;
            int xs = t * blocks + g * LANES;
            ShortVector s0 = ShortVector.zero(S_FULL);
            ShortVector s1 = s0;
            ShortVector s2 = s0;
            ShortVector s3 = s0;
            for (int j = 0; j < QK; j++) {
                ShortVector q = ShortVector.fromMemorySegment(S_FULL, data, group + (long) j * STEP_BYTES,
                        ByteOrder.LITTLE_ENDIAN);
                ShortVector v = (ShortVector) ByteVector.fromArray(B_HALF, values, xg + j * LANES)
                        .convertShape(VectorOperators.B2S, S_FULL, 0);
                s0 = s0.add(q.mul(v));
                s1 = s1.add(q.lanewise(VectorOperators.ASHR, 4).mul(v));
                s2 = s2.add(q.lanewise(VectorOperators.ASHR, 8).mul(v));
                s3 = s3.add(q.lanewise(VectorOperators.ASHR, 12).mul(v));
            }
            ShortVector offsets = ShortVector.fromArray(S_FULL, x.q4Offsets, xs);
            s0 = s0.sub(s1.lanewise(VectorOperators.LSHL, 4)).add(offsets);
            s1 = s1.sub(s2.lanewise(VectorOperators.LSHL, 4)).add(offsets);
            s2 = s2.sub(s3.lanewise(VectorOperators.LSHL, 4)).add(offsets);
            FloatVector e0 = FloatVector.fromArray(F, x.scales, xs);
            FloatVector e1 = FloatVector.fromArray(F, x.scales, xs + L);
            FloatVector sum0 = FloatVector.fromArray(F, x.sums, xs);
            FloatVector sum1 = FloatVector.fromArray(F, x.sums, xs + L);
            FloatVector superBlocks;
            ByteVector scales;
            ByteVector mins;
            FloatVector d0;
            FloatVector d1;
            group += STEPS_BYTES;
            superBlocks = FloatVector.fromMemorySegment(F, data, group, ByteOrder.LITTLE_ENDIAN);
            scales = ByteVector.fromMemorySegment(B_HALF, data, group + LANES, ByteOrder.LITTLE_ENDIAN);
            mins = ByteVector.fromMemorySegment(B_HALF, data, group + 2L * LANES, ByteOrder.LITTLE_ENDIAN);
            d0 = superBlocks.rearrange(D_LOW).mul((FloatVector) scales.convertShape(VectorOperators.B2F, F, 0));
            d1 = superBlocks.rearrange(D_HIGH).mul((FloatVector) scales.convertShape(VectorOperators.B2F, F, 1));
            a0 = d0.mul(8f).add(superBlocks.rearrange(M_LOW).mul((FloatVector) mins.convertShape(VectorOperators.B2F,
                    F, 0))).fma(sum0, a0);
            a0 = d1.mul(8f).add(superBlocks.rearrange(M_HIGH).mul((FloatVector) mins.convertShape(VectorOperators.B2F,
                    F, 1))).fma(sum1, a0);
            a0 = ((FloatVector) s0.convertShape(VectorOperators.S2I, I, 0).convert(VectorOperators.I2F, 0))
                    .fma(d0.mul(e0), a0);
            a0 = ((FloatVector) s0.convertShape(VectorOperators.S2I, I, 1).convert(VectorOperators.I2F, 0))
                    .fma(d1.mul(e1), a0);
            group += HEADER_BYTES * LANES;
            superBlocks = FloatVector.fromMemorySegment(F, data, group, ByteOrder.LITTLE_ENDIAN);
            scales = ByteVector.fromMemorySegment(B_HALF, data, group + LANES, ByteOrder.LITTLE_ENDIAN);
            mins = ByteVector.fromMemorySegment(B_HALF, data, group + 2L * LANES, ByteOrder.LITTLE_ENDIAN);
            d0 = superBlocks.rearrange(D_LOW).mul((FloatVector) scales.convertShape(VectorOperators.B2F, F, 0));
            d1 = superBlocks.rearrange(D_HIGH).mul((FloatVector) scales.convertShape(VectorOperators.B2F, F, 1));
            a1 = d0.mul(8f).add(superBlocks.rearrange(M_LOW).mul((FloatVector) mins.convertShape(VectorOperators.B2F,
                    F, 0))).fma(sum0, a1);
            a1 = d1.mul(8f).add(superBlocks.rearrange(M_HIGH).mul((FloatVector) mins.convertShape(VectorOperators.B2F,
                    F, 1))).fma(sum1, a1);
            a1 = ((FloatVector) s1.convertShape(VectorOperators.S2I, I, 0).convert(VectorOperators.I2F, 0))
                    .fma(d0.mul(e0), a1);
            a1 = ((FloatVector) s1.convertShape(VectorOperators.S2I, I, 1).convert(VectorOperators.I2F, 0))
                    .fma(d1.mul(e1), a1);
            group += HEADER_BYTES * LANES;
            superBlocks = FloatVector.fromMemorySegment(F, data, group, ByteOrder.LITTLE_ENDIAN);
            scales = ByteVector.fromMemorySegment(B_HALF, data, group + LANES, ByteOrder.LITTLE_ENDIAN);
            mins = ByteVector.fromMemorySegment(B_HALF, data, group + 2L * LANES, ByteOrder.LITTLE_ENDIAN);
            d0 = superBlocks.rearrange(D_LOW).mul((FloatVector) scales.convertShape(VectorOperators.B2F, F, 0));
            d1 = superBlocks.rearrange(D_HIGH).mul((FloatVector) scales.convertShape(VectorOperators.B2F, F, 1));
            a2 = d0.mul(8f).add(superBlocks.rearrange(M_LOW).mul((FloatVector) mins.convertShape(VectorOperators.B2F,
                    F, 0))).fma(sum0, a2);
            a2 = d1.mul(8f).add(superBlocks.rearrange(M_HIGH).mul((FloatVector) mins.convertShape(VectorOperators.B2F,
                    F, 1))).fma(sum1, a2);
            a2 = ((FloatVector) s2.convertShape(VectorOperators.S2I, I, 0).convert(VectorOperators.I2F, 0))
                    .fma(d0.mul(e0), a2);
            a2 = ((FloatVector) s2.convertShape(VectorOperators.S2I, I, 1).convert(VectorOperators.I2F, 0))
                    .fma(d1.mul(e1), a2);
            group += HEADER_BYTES * LANES;
            superBlocks = FloatVector.fromMemorySegment(F, data, group, ByteOrder.LITTLE_ENDIAN);
            scales = ByteVector.fromMemorySegment(B_HALF, data, group + LANES, ByteOrder.LITTLE_ENDIAN);
            mins = ByteVector.fromMemorySegment(B_HALF, data, group + 2L * LANES, ByteOrder.LITTLE_ENDIAN);
            d0 = superBlocks.rearrange(D_LOW).mul((FloatVector) scales.convertShape(VectorOperators.B2F, F, 0));
            d1 = superBlocks.rearrange(D_HIGH).mul((FloatVector) scales.convertShape(VectorOperators.B2F, F, 1));
            a3 = d0.mul(8f).add(superBlocks.rearrange(M_LOW).mul((FloatVector) mins.convertShape(VectorOperators.B2F,
                    F, 0))).fma(sum0, a3);
            a3 = d1.mul(8f).add(superBlocks.rearrange(M_HIGH).mul((FloatVector) mins.convertShape(VectorOperators.B2F,
                    F, 1))).fma(sum1, a3);
            a3 = ((FloatVector) s3.convertShape(VectorOperators.S2I, I, 0).convert(VectorOperators.I2F, 0))
                    .fma(d0.mul(e0), a3);
            a3 = ((FloatVector) s3.convertShape(VectorOperators.S2I, I, 1).convert(VectorOperators.I2F, 0))
                    .fma(d1.mul(e1), a3);
        }
        FloatVector a01 = a0.blend(a1, VectorMath.UPPER_HALF)
                .add(a1.blend(a0, VectorMath.UPPER_HALF).rearrange(VectorMath.HALVINGS[0]));
        FloatVector a23 = a2.blend(a3, VectorMath.UPPER_HALF)
                .add(a3.blend(a2, VectorMath.UPPER_HALF).rearrange(VectorMath.HALVINGS[0]));
        FloatVector sums = a01.blend(a23, VectorMath.ODD_QUARTERS)
                .add(a23.blend(a01, VectorMath.ODD_QUARTERS).rearrange(VectorMath.HALVINGS[1]));
        for (int h = 2; h < VectorMath.HALVINGS.length; h++) {
            sums = sums.add(sums.rearrange(VectorMath.HALVINGS[h]));
        }
        out[t * rows + r0] = sums.lane(0);
        out[t * rows + r0 + 1] = sums.lane(L / 2);
        out[t * rows + r0 + 2] = sums.lane(L / 4);
        out[t * rows + r0 + 3] = sums.lane(3 * L / 4);
    }

    /**
     * {@link #quadDot} for vectors t and t + 1 together (batched decode): each step's shifts and each header's scales
     * serve both.
     */
    @Override
    public void quadDots(int r0, Q8Activations x, int t, float[] out) {
        int groups = groups(cols);
        int blocks = cols / QK;
        byte[] values = x.values;
        long quad = rowOffset(r0);
        FloatVector a00 = FloatVector.zero(F);
        FloatVector a10 = a00;
        FloatVector a20 = a00;
        FloatVector a30 = a00;
        FloatVector a01 = a00;
        FloatVector a11 = a00;
        FloatVector a21 = a00;
        FloatVector a31 = a00;
        for (int g = 0; g < groups; g++) {
            long group = quad + g * quadGroupBytes;
            int xg = t * cols + g * QK * LANES;
            int xs = t * blocks + g * LANES;
            ShortVector s00 = ShortVector.zero(S_FULL);
            ShortVector s10 = s00;
            ShortVector s20 = s00;
            ShortVector s30 = s00;
            ShortVector s01 = s00;
            ShortVector s11 = s00;
            ShortVector s21 = s00;
            ShortVector s31 = s00;
            for (int j = 0; j < QK; j++) {
                ShortVector q0 = ShortVector.fromMemorySegment(S_FULL, data, group + (long) j * STEP_BYTES,
                        ByteOrder.LITTLE_ENDIAN);
                ShortVector q1 = q0.lanewise(VectorOperators.ASHR, 4);
                ShortVector q2 = q0.lanewise(VectorOperators.ASHR, 8);
                ShortVector q3 = q0.lanewise(VectorOperators.ASHR, 12);
                ShortVector v0 = (ShortVector) ByteVector.fromArray(B_HALF, values, xg + j * LANES)
                        .convertShape(VectorOperators.B2S, S_FULL, 0);
                ShortVector v1 = (ShortVector) ByteVector.fromArray(B_HALF, values, xg + cols + j * LANES)
                        .convertShape(VectorOperators.B2S, S_FULL, 0);
                s00 = s00.add(q0.mul(v0));
                s10 = s10.add(q1.mul(v0));
                s20 = s20.add(q2.mul(v0));
                s30 = s30.add(q3.mul(v0));
                s01 = s01.add(q0.mul(v1));
                s11 = s11.add(q1.mul(v1));
                s21 = s21.add(q2.mul(v1));
                s31 = s31.add(q3.mul(v1));
            }
            ShortVector offsets = ShortVector.fromArray(S_FULL, x.q4Offsets, xs);
            s00 = s00.sub(s10.lanewise(VectorOperators.LSHL, 4)).add(offsets);
            s10 = s10.sub(s20.lanewise(VectorOperators.LSHL, 4)).add(offsets);
            s20 = s20.sub(s30.lanewise(VectorOperators.LSHL, 4)).add(offsets);
            offsets = ShortVector.fromArray(S_FULL, x.q4Offsets, xs + blocks);
            s01 = s01.sub(s11.lanewise(VectorOperators.LSHL, 4)).add(offsets);
            s11 = s11.sub(s21.lanewise(VectorOperators.LSHL, 4)).add(offsets);
            s21 = s21.sub(s31.lanewise(VectorOperators.LSHL, 4)).add(offsets);
            FloatVector e00 = FloatVector.fromArray(F, x.scales, xs);
            FloatVector e01 = FloatVector.fromArray(F, x.scales, xs + L);
            FloatVector e10 = FloatVector.fromArray(F, x.scales, xs + blocks);
            FloatVector e11 = FloatVector.fromArray(F, x.scales, xs + blocks + L);
            FloatVector sum00 = FloatVector.fromArray(F, x.sums, xs);
            FloatVector sum01 = FloatVector.fromArray(F, x.sums, xs + L);
            FloatVector sum10 = FloatVector.fromArray(F, x.sums, xs + blocks);
            FloatVector sum11 = FloatVector.fromArray(F, x.sums, xs + blocks + L);
            FloatVector superBlocks;
            ByteVector scales;
            ByteVector mins;
            FloatVector d0;
            FloatVector d1;
            FloatVector c0;
            FloatVector c1;
            group += STEPS_BYTES;
            superBlocks = FloatVector.fromMemorySegment(F, data, group, ByteOrder.LITTLE_ENDIAN);
            scales = ByteVector.fromMemorySegment(B_HALF, data, group + LANES, ByteOrder.LITTLE_ENDIAN);
            mins = ByteVector.fromMemorySegment(B_HALF, data, group + 2L * LANES, ByteOrder.LITTLE_ENDIAN);
            d0 = superBlocks.rearrange(D_LOW).mul((FloatVector) scales.convertShape(VectorOperators.B2F, F, 0));
            d1 = superBlocks.rearrange(D_HIGH).mul((FloatVector) scales.convertShape(VectorOperators.B2F, F, 1));
            c0 = d0.mul(8f).add(superBlocks.rearrange(M_LOW).mul((FloatVector) mins.convertShape(VectorOperators.B2F,
                    F, 0)));
            c1 = d1.mul(8f).add(superBlocks.rearrange(M_HIGH).mul((FloatVector) mins.convertShape(VectorOperators.B2F,
                    F, 1)));
            a00 = c0.fma(sum00, a00);
            a00 = c1.fma(sum01, a00);
            a00 = ((FloatVector) s00.convertShape(VectorOperators.S2I, I, 0).convert(VectorOperators.I2F, 0))
                    .fma(d0.mul(e00), a00);
            a00 = ((FloatVector) s00.convertShape(VectorOperators.S2I, I, 1).convert(VectorOperators.I2F, 0))
                    .fma(d1.mul(e01), a00);
            a01 = c0.fma(sum10, a01);
            a01 = c1.fma(sum11, a01);
            a01 = ((FloatVector) s01.convertShape(VectorOperators.S2I, I, 0).convert(VectorOperators.I2F, 0))
                    .fma(d0.mul(e10), a01);
            a01 = ((FloatVector) s01.convertShape(VectorOperators.S2I, I, 1).convert(VectorOperators.I2F, 0))
                    .fma(d1.mul(e11), a01);
            group += HEADER_BYTES * LANES;
            superBlocks = FloatVector.fromMemorySegment(F, data, group, ByteOrder.LITTLE_ENDIAN);
            scales = ByteVector.fromMemorySegment(B_HALF, data, group + LANES, ByteOrder.LITTLE_ENDIAN);
            mins = ByteVector.fromMemorySegment(B_HALF, data, group + 2L * LANES, ByteOrder.LITTLE_ENDIAN);
            d0 = superBlocks.rearrange(D_LOW).mul((FloatVector) scales.convertShape(VectorOperators.B2F, F, 0));
            d1 = superBlocks.rearrange(D_HIGH).mul((FloatVector) scales.convertShape(VectorOperators.B2F, F, 1));
            c0 = d0.mul(8f).add(superBlocks.rearrange(M_LOW).mul((FloatVector) mins.convertShape(VectorOperators.B2F,
                    F, 0)));
            c1 = d1.mul(8f).add(superBlocks.rearrange(M_HIGH).mul((FloatVector) mins.convertShape(VectorOperators.B2F,
                    F, 1)));
            a10 = c0.fma(sum00, a10);
            a10 = c1.fma(sum01, a10);
            a10 = ((FloatVector) s10.convertShape(VectorOperators.S2I, I, 0).convert(VectorOperators.I2F, 0))
                    .fma(d0.mul(e00), a10);
            a10 = ((FloatVector) s10.convertShape(VectorOperators.S2I, I, 1).convert(VectorOperators.I2F, 0))
                    .fma(d1.mul(e01), a10);
            a11 = c0.fma(sum10, a11);
            a11 = c1.fma(sum11, a11);
            a11 = ((FloatVector) s11.convertShape(VectorOperators.S2I, I, 0).convert(VectorOperators.I2F, 0))
                    .fma(d0.mul(e10), a11);
            a11 = ((FloatVector) s11.convertShape(VectorOperators.S2I, I, 1).convert(VectorOperators.I2F, 0))
                    .fma(d1.mul(e11), a11);
            group += HEADER_BYTES * LANES;
            superBlocks = FloatVector.fromMemorySegment(F, data, group, ByteOrder.LITTLE_ENDIAN);
            scales = ByteVector.fromMemorySegment(B_HALF, data, group + LANES, ByteOrder.LITTLE_ENDIAN);
            mins = ByteVector.fromMemorySegment(B_HALF, data, group + 2L * LANES, ByteOrder.LITTLE_ENDIAN);
            d0 = superBlocks.rearrange(D_LOW).mul((FloatVector) scales.convertShape(VectorOperators.B2F, F, 0));
            d1 = superBlocks.rearrange(D_HIGH).mul((FloatVector) scales.convertShape(VectorOperators.B2F, F, 1));
            c0 = d0.mul(8f).add(superBlocks.rearrange(M_LOW).mul((FloatVector) mins.convertShape(VectorOperators.B2F,
                    F, 0)));
            c1 = d1.mul(8f).add(superBlocks.rearrange(M_HIGH).mul((FloatVector) mins.convertShape(VectorOperators.B2F,
                    F, 1)));
            a20 = c0.fma(sum00, a20);
            a20 = c1.fma(sum01, a20);
            a20 = ((FloatVector) s20.convertShape(VectorOperators.S2I, I, 0).convert(VectorOperators.I2F, 0))
                    .fma(d0.mul(e00), a20);
            a20 = ((FloatVector) s20.convertShape(VectorOperators.S2I, I, 1).convert(VectorOperators.I2F, 0))
                    .fma(d1.mul(e01), a20);
            a21 = c0.fma(sum10, a21);
            a21 = c1.fma(sum11, a21);
            a21 = ((FloatVector) s21.convertShape(VectorOperators.S2I, I, 0).convert(VectorOperators.I2F, 0))
                    .fma(d0.mul(e10), a21);
            a21 = ((FloatVector) s21.convertShape(VectorOperators.S2I, I, 1).convert(VectorOperators.I2F, 0))
                    .fma(d1.mul(e11), a21);
            group += HEADER_BYTES * LANES;
            superBlocks = FloatVector.fromMemorySegment(F, data, group, ByteOrder.LITTLE_ENDIAN);
            scales = ByteVector.fromMemorySegment(B_HALF, data, group + LANES, ByteOrder.LITTLE_ENDIAN);
            mins = ByteVector.fromMemorySegment(B_HALF, data, group + 2L * LANES, ByteOrder.LITTLE_ENDIAN);
            d0 = superBlocks.rearrange(D_LOW).mul((FloatVector) scales.convertShape(VectorOperators.B2F, F, 0));
            d1 = superBlocks.rearrange(D_HIGH).mul((FloatVector) scales.convertShape(VectorOperators.B2F, F, 1));
            c0 = d0.mul(8f).add(superBlocks.rearrange(M_LOW).mul((FloatVector) mins.convertShape(VectorOperators.B2F,
                    F, 0)));
            c1 = d1.mul(8f).add(superBlocks.rearrange(M_HIGH).mul((FloatVector) mins.convertShape(VectorOperators.B2F,
                    F, 1)));
            a30 = c0.fma(sum00, a30);
            a30 = c1.fma(sum01, a30);
            a30 = ((FloatVector) s30.convertShape(VectorOperators.S2I, I, 0).convert(VectorOperators.I2F, 0))
                    .fma(d0.mul(e00), a30);
            a30 = ((FloatVector) s30.convertShape(VectorOperators.S2I, I, 1).convert(VectorOperators.I2F, 0))
                    .fma(d1.mul(e01), a30);
            a31 = c0.fma(sum10, a31);
            a31 = c1.fma(sum11, a31);
            a31 = ((FloatVector) s31.convertShape(VectorOperators.S2I, I, 0).convert(VectorOperators.I2F, 0))
                    .fma(d0.mul(e10), a31);
            a31 = ((FloatVector) s31.convertShape(VectorOperators.S2I, I, 1).convert(VectorOperators.I2F, 0))
                    .fma(d1.mul(e11), a31);
        }
        FloatVector first01 = a00.blend(a10, VectorMath.UPPER_HALF)
                .add(a10.blend(a00, VectorMath.UPPER_HALF).rearrange(VectorMath.HALVINGS[0]));
        FloatVector first23 = a20.blend(a30, VectorMath.UPPER_HALF)
                .add(a30.blend(a20, VectorMath.UPPER_HALF).rearrange(VectorMath.HALVINGS[0]));
        FloatVector first = first01.blend(first23, VectorMath.ODD_QUARTERS)
                .add(first23.blend(first01, VectorMath.ODD_QUARTERS).rearrange(VectorMath.HALVINGS[1]));
        FloatVector second01 = a01.blend(a11, VectorMath.UPPER_HALF)
                .add(a11.blend(a01, VectorMath.UPPER_HALF).rearrange(VectorMath.HALVINGS[0]));
        FloatVector second23 = a21.blend(a31, VectorMath.UPPER_HALF)
                .add(a31.blend(a21, VectorMath.UPPER_HALF).rearrange(VectorMath.HALVINGS[0]));
        FloatVector second = second01.blend(second23, VectorMath.ODD_QUARTERS)
                .add(second23.blend(second01, VectorMath.ODD_QUARTERS).rearrange(VectorMath.HALVINGS[1]));
        for (int h = 2; h < VectorMath.HALVINGS.length; h++) {
            first = first.add(first.rearrange(VectorMath.HALVINGS[h]));
            second = second.add(second.rearrange(VectorMath.HALVINGS[h]));
        }
        out[t * rows + r0] = first.lane(0);
        out[t * rows + r0 + 1] = first.lane(L / 2);
        out[t * rows + r0 + 2] = first.lane(L / 4);
        out[t * rows + r0 + 3] = first.lane(3 * L / 4);
        out[(t + 1) * rows + r0] = second.lane(0);
        out[(t + 1) * rows + r0 + 1] = second.lane(L / 2);
        out[(t + 1) * rows + r0 + 2] = second.lane(L / 4);
        out[(t + 1) * rows + r0 + 3] = second.lane(3 * L / 4);
    }

    /** Per row, its header, decoded once for the four vectors. */
    @Override
    public void addQuadGroup4(long group, Q8Activations x, int xs, int blocks, QuadScratch scratch) {
        for (int i = 0; i < QUAD; i++) {
            headerScales(group + STEPS_BYTES + (long) i * HEADER_BYTES * LANES, scratch.blockScales,
                    scratch.blockOffsets, 0);
            FloatVector d0 = FloatVector.fromArray(F, scratch.blockScales, 0);
            FloatVector d1 = FloatVector.fromArray(F, scratch.blockScales, L);
            FloatVector c0 = FloatVector.fromArray(F, scratch.blockOffsets, 0);
            FloatVector c1 = FloatVector.fromArray(F, scratch.blockOffsets, L);
            for (int u = 0; u < FOUR; u++) {
                int at = (FOUR * u + i) * L;
                int xu = xs + u * blocks;
                ShortVector s = ShortVector.fromArray(S_FULL, scratch.ints, (FOUR * u + i) * LANES);
                FloatVector a = FloatVector.fromArray(F, scratch.sums, at);
                a = c0.fma(FloatVector.fromArray(F, x.sums, xu), a);
                a = c1.fma(FloatVector.fromArray(F, x.sums, xu + L), a);
                a = ((FloatVector) s.convertShape(VectorOperators.S2I, I, 0).convert(VectorOperators.I2F, 0))
                        .fma(d0.mul(FloatVector.fromArray(F, x.scales, xu)), a);
                a = ((FloatVector) s.convertShape(VectorOperators.S2I, I, 1).convert(VectorOperators.I2F, 0))
                        .fma(d1.mul(FloatVector.fromArray(F, x.scales, xu + L)), a);
                a.intoArray(scratch.sums, at);
            }
        }
    }

    /** One row of a quad over the whole groups, for the rows of quads a range cuts; written out as above. */
    @Override
    float groupsDot(int row, Q8Activations x, int t) {
        int groups = groups(cols);
        int blocks = cols / QK;
        int i = row % QUAD;
        int shift = 4 * i;
        boolean last = i == QUAD - 1;
        short mask = last ? (short) -1 : 0x0f; // the last row's shift leaves u − 8, signed
        FloatVector acc = FloatVector.zero(F);
        for (int g = 0; g < groups; g++) {
            long group = rowOffset(row - i) + g * quadGroupBytes;
            int xg = t * cols + g * QK * LANES;
            int xs = t * blocks + g * LANES;
            ShortVector s0 = last ? ShortVector.zero(S_FULL) : ShortVector.fromArray(S_FULL, x.q4Offsets, xs);
            for (int j = 0; j < QK; j++) {
                ShortVector q = ShortVector.fromMemorySegment(S_FULL, data, group + (long) j * STEP_BYTES,
                        ByteOrder.LITTLE_ENDIAN).lanewise(VectorOperators.ASHR, shift).and(mask);
                s0 = s0.add(q.mul((ShortVector) ByteVector.fromArray(B_HALF, x.values, xg + j * LANES)
                        .convertShape(VectorOperators.B2S, S_FULL, 0)));
            }
            group += (long) i * HEADER_BYTES * LANES;
            FloatVector e0 = FloatVector.fromArray(F, x.scales, xs);
            FloatVector e1 = FloatVector.fromArray(F, x.scales, xs + L);
            FloatVector sum0 = FloatVector.fromArray(F, x.sums, xs);
            FloatVector sum1 = FloatVector.fromArray(F, x.sums, xs + L);
            FloatVector superBlocks;
            ByteVector scales;
            ByteVector mins;
            FloatVector d0;
            FloatVector d1;
            group += STEPS_BYTES;
            superBlocks = FloatVector.fromMemorySegment(F, data, group, ByteOrder.LITTLE_ENDIAN);
            scales = ByteVector.fromMemorySegment(B_HALF, data, group + LANES, ByteOrder.LITTLE_ENDIAN);
            mins = ByteVector.fromMemorySegment(B_HALF, data, group + 2L * LANES, ByteOrder.LITTLE_ENDIAN);
            d0 = superBlocks.rearrange(D_LOW).mul((FloatVector) scales.convertShape(VectorOperators.B2F, F, 0));
            d1 = superBlocks.rearrange(D_HIGH).mul((FloatVector) scales.convertShape(VectorOperators.B2F, F, 1));
            acc = d0.mul(8f).add(superBlocks.rearrange(M_LOW).mul((FloatVector) mins.convertShape(VectorOperators.B2F,
                    F, 0))).fma(sum0, acc);
            acc = d1.mul(8f).add(superBlocks.rearrange(M_HIGH).mul((FloatVector) mins.convertShape(VectorOperators.B2F,
                    F, 1))).fma(sum1, acc);
            acc = ((FloatVector) s0.convertShape(VectorOperators.S2I, I, 0).convert(VectorOperators.I2F, 0))
                    .fma(d0.mul(e0), acc);
            acc = ((FloatVector) s0.convertShape(VectorOperators.S2I, I, 1).convert(VectorOperators.I2F, 0))
                    .fma(d1.mul(e1), acc);
        }
        for (VectorShuffle<Float> halving : VectorMath.HALVINGS) {
            acc = acc.add(acc.rearrange(halving));
        }
        return acc.lane(0);
    }

    @Override
    long header(int row, int g) {
        int i = row % QUAD;
        return rowOffset(row - i) + g * quadGroupBytes + STEPS_BYTES + (long) i * HEADER_BYTES * LANES;
    }

    @Override
    long tailSuperBlock(int row, int b) {
        int i = row % QUAD;
        int packed = groups(cols) * LANES;
        return rowOffset(row - i) + groups(cols) * quadGroupBytes + i * tailBytes
                + (long) (b - packed) / SUB * SOURCE_BYTES;
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

    /** Nibble u of value j of block b of a row (0–15), for the scalar paths. */
    private int nibble(int row, int b, int j) {
        if (inTail(b)) {
            long qs = tailSuperBlock(row, b) + 16 + 32 * (b % SUB / 2);
            return data.get(ValueLayout.JAVA_BYTE, qs + j) >> 4 * (b % 2) & 0x0f;
        }
        int i = row % QUAD;
        long step = rowOffset(row - i) + (b / LANES) * quadGroupBytes + (long) j * STEP_BYTES;
        return quadNibble(step, b % LANES, i);
    }

    @Override
    float dotScalar(int row, Q8Activations x, int t) {
        float sum = 0f;
        for (int b = 0; b < cols / QK; b++) {
            int weighted = 0;
            int plain = 0;
            for (int j = 0; j < QK; j++) {
                weighted += nibble(row, b, j) * x.value(t, b * QK + j);
                plain += x.value(t, b * QK + j);
            }
            sum += x.scale(t, b) * (scale(row, b) * weighted + minimum(row, b) * plain);
        }
        return sum;
    }

    /** Values (u − 8)·d + (8d + m), as the integer form gives them. */
    @Override
    public void dequantizeRowStored(int row, float[] out, int outOffset) {
        int i = row % QUAD;
        QuadScratch scratch = QUAD_SCRATCH.get();
        for (int g = 0; g < groups(cols); g++) {
            headerScales(header(row, g), scratch.blockScales, scratch.blockOffsets, 0);
            FloatVector d0 = FloatVector.fromArray(F, scratch.blockScales, 0);
            FloatVector d1 = FloatVector.fromArray(F, scratch.blockScales, L);
            FloatVector c0 = FloatVector.fromArray(F, scratch.blockOffsets, 0);
            FloatVector c1 = FloatVector.fromArray(F, scratch.blockOffsets, L);
            long steps = rowOffset(row - i) + g * quadGroupBytes;
            for (int j = 0; j < QK; j++) {
                ShortVector q = quadValues(steps + (long) j * STEP_BYTES, i);
                int o = outOffset + g * QK * LANES + j * LANES;
                ((FloatVector) q.convertShape(VectorOperators.S2I, I, 0).convert(VectorOperators.I2F, 0)).fma(d0, c0)
                        .intoArray(out, o);
                ((FloatVector) q.convertShape(VectorOperators.S2I, I, 1).convert(VectorOperators.I2F, 0)).fma(d1, c1)
                        .intoArray(out, o + L);
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
    public void decodeRowsInt(int row, int count, short[] q, int qOffset, int qStride, float[] scales,
                              float[] offsets, int gOffset, int gStride) {
        decodeQuadRowsInt(row, count, q, qOffset, qStride, scales, offsets, gOffset, gStride);
    }

    /**
     * The scales d·scale of the LANES blocks of the header at {@code header}, to scales[at …], and their offsets
     * 8·d·scale − dmin·min, to offsets[at …].
     */
    private void headerScales(long header, float[] scales, float[] offsets, int at) {
        FloatVector superBlocks = FloatVector.fromMemorySegment(F, data, header, ByteOrder.LITTLE_ENDIAN);
        ByteVector blockScales = ByteVector.fromMemorySegment(B_HALF, data, header + LANES, ByteOrder.LITTLE_ENDIAN);
        ByteVector mins = ByteVector.fromMemorySegment(B_HALF, data, header + 2L * LANES, ByteOrder.LITTLE_ENDIAN);
        FloatVector d0 = superBlocks.rearrange(D_LOW)
                .mul((FloatVector) blockScales.convertShape(VectorOperators.B2F, F, 0));
        FloatVector d1 = superBlocks.rearrange(D_HIGH)
                .mul((FloatVector) blockScales.convertShape(VectorOperators.B2F, F, 1));
        FloatVector m0 = superBlocks.rearrange(M_LOW).mul((FloatVector) mins.convertShape(VectorOperators.B2F, F, 0));
        FloatVector m1 = superBlocks.rearrange(M_HIGH).mul((FloatVector) mins.convertShape(VectorOperators.B2F, F, 1));
        d0.intoArray(scales, at);
        d1.intoArray(scales, at + L);
        d0.mul(8f).add(m0).intoArray(offsets, at);
        d1.mul(8f).add(m1).intoArray(offsets, at + L);
    }

    @Override
    public void decodeRowScales(int row, short[] q, int qOffset, float[] scales, float[] offsets, int gOffset) {
        for (int g = 0; g < groups(cols); g++) {
            headerScales(header(row, g), scales, offsets, gOffset + g * LANES);
        }
        for (int b = groups(cols) * LANES; b < cols / QK; b++) {
            float d = scale(row, b);
            scales[gOffset + b] = d;
            offsets[gOffset + b] = 8 * d + minimum(row, b);
            for (int j = 0; j < QK; j++) {
                q[qOffset + b * QK + j] = (short) (nibble(row, b, j) - 8);
            }
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
            out[outOffset + j] = d * nibble(row, b, j) + m;
        }
    }
}
