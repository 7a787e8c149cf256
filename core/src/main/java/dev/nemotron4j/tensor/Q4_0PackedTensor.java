package dev.nemotron4j.tensor;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
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
 * {@link Q4_0Tensor Q4_0} {@link PackedTensor packed} for decode, four rows together. Rows 4m … 4m+3 (a quad) share
 * their groups: a group of LANES blocks holds 32 steps of LANES shorts, where bits 4i … 4i+3 of short k of step j are
 * value j of block k of row 4m + i as its nibble u (the value is (u − 8)·d), row 4m + 3's xor 8, then the four rows'
 * LANES f16 scales (in pairs, row after row). That is 18 bytes per block, as the source has; the tail blocks of the
 * four rows follow their groups in the source format, row after row. A last quad of fewer rows is padded with zero
 * scales. The scales come after the steps so that a group is read front to back: with them first, read after the
 * steps, packed Q4_K (laid out the same way) streamed from memory at 21 instead of 35 GB/s.
 *
 * <p>One short load then carries four rows, and no mask is needed to take them apart: read as a signed short, the
 * arithmetic shift by 4i leaves s_i = u_i + 16·u_{i+1} + … with row 3 already signed (u₃ − 8). Summed over a block
 * with 16-bit products that wrap, S_i = Σ (s_i·x) = A_i + 16·S_{i+1}, where A_i = Σ u_i·x; so A_i = S_i − 16·S_{i+1},
 * and A_i − 8·Σx, the true block sum (within ±32512), comes out exact from the wrapped numbers. That is 6 vector ops
 * per 64 weights against 9 for one row at a time (the row's own widening and masks), and 1.5 times the speed in L2.
 */
public final class Q4_0PackedTensor extends PackedTensor implements IntegerRows, PackedTensor.Quads {
    private static final int BLOCK_BYTES = 18;

    private final long quadGroupBytes = QUAD * groupBytes;
    private final int tailBlocks = cols / QK - groups(cols) * LANES;

    private Q4_0PackedTensor(MemorySegment data, int rows, int cols) {
        super(data, rows, cols, BLOCK_BYTES, 2, 0);
    }

    @Override
    public GGMLType type() {
        return GGMLType.Q4_0;
    }

    /** A view of bytes {@link #pack} wrote. */
    public static Q4_0PackedTensor of(MemorySegment data, int rows, int cols) {
        return new Q4_0PackedTensor(data, rows, cols);
    }

    /** Bytes of the packed form: whole quads. */
    static long byteSize(int rows, int cols) {
        return GGMLType.Q4_0.byteSize(cols) * ((rows + QUAD - 1) / QUAD * QUAD);
    }

    /**
     * Packs the quads of rows [from, to) of {@code source} into {@code dst}, which may be the source's own memory when
     * the rows are whole quads; {@code from} must start a quad and {@code to} end one or the matrix.
     */
    public static void pack(Q4_0Tensor source, MemorySegment dst, int from, int to) {
        int cols = source.cols();
        int rowBytes = (int) source.rowBytes;
        int groups = groups(cols);
        int tail = cols / QK - groups * LANES;
        int groupBytes = BLOCK_BYTES * LANES;
        byte[][] rows = new byte[QUAD][rowBytes];
        byte[][] steps = new byte[QUAD][rowBytes];
        byte[] out = new byte[QUAD * rowBytes];
        long[] eight = new long[8];
        for (int r0 = from; r0 < to; r0 += QUAD) {
            for (int i = 0; i < QUAD; i++) {
                if (r0 + i < source.rows()) {
                    MemorySegment.copy(source.data(), ValueLayout.JAVA_BYTE, (long) (r0 + i) * rowBytes, rows[i], 0,
                            rowBytes);
                } else {
                    Arrays.fill(rows[i], (byte) 0); // zero scales: every value 0
                }
                // Each row's qs bytes as Q4_1's steps have them: byte j of block k at step j, lane k.
                transposeSteps(rows[i], groups, BLOCK_BYTES, QK / 2, 0, steps[i], eight);
            }
            for (int g = 0; g < groups; g++) {
                int group = g * QUAD * groupBytes;
                for (int i = 0; i < QUAD; i++) {
                    for (int k = 0; k < LANES; k++) {
                        int block = (g * LANES + k) * BLOCK_BYTES;
                        out[group + STEPS_BYTES + i * 2 * LANES + scaleOffset(k)] = rows[i][block];
                        out[group + STEPS_BYTES + i * 2 * LANES + scaleOffset(k) + 1] = rows[i][block + 1];
                    }
                }
                quadSteps(steps, g * groupBytes + 2 * LANES, 0, out, group);
            }
            for (int i = 0; i < QUAD; i++) {
                System.arraycopy(rows[i], groups * LANES * BLOCK_BYTES, out,
                        groups * QUAD * groupBytes + i * tail * BLOCK_BYTES, tail * BLOCK_BYTES);
            }
            MemorySegment.copy(out, 0, dst, ValueLayout.JAVA_BYTE, (long) r0 * rowBytes, QUAD * rowBytes);
        }
    }

    /**
     * Rows r0 … r0+3 · vector t over the whole groups, into out. The activation load and the scale decoding are
     * written out: C2 stops inlining a method's calls past its node budget, and boxes the vectors they return.
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
            long scales = group + STEPS_BYTES;
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
            // The weight scales as Simd.highHalfUnscaled takes them, the activation scales times its 2¹¹².
            FloatVector e0 = FloatVector.fromArray(F, x.scales, xs).mul(Simd.HALF_REBIAS);
            FloatVector e1 = FloatVector.fromArray(F, x.scales, xs + L).mul(Simd.HALF_REBIAS);
            IntVector d = IntVector.fromMemorySegment(I, data, scales, ByteOrder.LITTLE_ENDIAN);
            a0 = ((FloatVector) s0.convertShape(VectorOperators.S2I, I, 0).convert(VectorOperators.I2F, 0))
                    .fma(e0.mul(d.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 3)
                            .and(Simd.HALF_MASK).reinterpretAsFloats()), a0);
            a0 = ((FloatVector) s0.convertShape(VectorOperators.S2I, I, 1).convert(VectorOperators.I2F, 0))
                    .fma(e1.mul(d.lanewise(VectorOperators.ASHR, 3).and(Simd.HALF_MASK).reinterpretAsFloats()), a0);
            d = IntVector.fromMemorySegment(I, data, scales + 2 * LANES, ByteOrder.LITTLE_ENDIAN);
            a1 = ((FloatVector) s1.convertShape(VectorOperators.S2I, I, 0).convert(VectorOperators.I2F, 0))
                    .fma(e0.mul(d.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 3)
                            .and(Simd.HALF_MASK).reinterpretAsFloats()), a1);
            a1 = ((FloatVector) s1.convertShape(VectorOperators.S2I, I, 1).convert(VectorOperators.I2F, 0))
                    .fma(e1.mul(d.lanewise(VectorOperators.ASHR, 3).and(Simd.HALF_MASK).reinterpretAsFloats()), a1);
            d = IntVector.fromMemorySegment(I, data, scales + 4 * LANES, ByteOrder.LITTLE_ENDIAN);
            a2 = ((FloatVector) s2.convertShape(VectorOperators.S2I, I, 0).convert(VectorOperators.I2F, 0))
                    .fma(e0.mul(d.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 3)
                            .and(Simd.HALF_MASK).reinterpretAsFloats()), a2);
            a2 = ((FloatVector) s2.convertShape(VectorOperators.S2I, I, 1).convert(VectorOperators.I2F, 0))
                    .fma(e1.mul(d.lanewise(VectorOperators.ASHR, 3).and(Simd.HALF_MASK).reinterpretAsFloats()), a2);
            d = IntVector.fromMemorySegment(I, data, scales + 6 * LANES, ByteOrder.LITTLE_ENDIAN);
            a3 = ((FloatVector) s3.convertShape(VectorOperators.S2I, I, 0).convert(VectorOperators.I2F, 0))
                    .fma(e0.mul(d.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 3)
                            .and(Simd.HALF_MASK).reinterpretAsFloats()), a3);
            a3 = ((FloatVector) s3.convertShape(VectorOperators.S2I, I, 1).convert(VectorOperators.I2F, 0))
                    .fma(e1.mul(d.lanewise(VectorOperators.ASHR, 3).and(Simd.HALF_MASK).reinterpretAsFloats()), a3);
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
     * {@link #quadDot} for vectors t and t + 1 together (batched decode): each step's shifts and each row's scales
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
            // The weight scales as Simd.highHalfUnscaled takes them, the activation scales times its 2¹¹².
            FloatVector e00 = FloatVector.fromArray(F, x.scales, xs).mul(Simd.HALF_REBIAS);
            FloatVector e01 = FloatVector.fromArray(F, x.scales, xs + L).mul(Simd.HALF_REBIAS);
            FloatVector e10 = FloatVector.fromArray(F, x.scales, xs + blocks).mul(Simd.HALF_REBIAS);
            FloatVector e11 = FloatVector.fromArray(F, x.scales, xs + blocks + L).mul(Simd.HALF_REBIAS);
            long scales = group + STEPS_BYTES;
            IntVector d;
            FloatVector d0;
            FloatVector d1;
            d = IntVector.fromMemorySegment(I, data, scales, ByteOrder.LITTLE_ENDIAN);
            d0 = d.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 3).and(Simd.HALF_MASK)
                    .reinterpretAsFloats();
            d1 = d.lanewise(VectorOperators.ASHR, 3).and(Simd.HALF_MASK).reinterpretAsFloats();
            a00 = ((FloatVector) s00.convertShape(VectorOperators.S2I, I, 0).convert(VectorOperators.I2F, 0))
                    .fma(e00.mul(d0), a00);
            a00 = ((FloatVector) s00.convertShape(VectorOperators.S2I, I, 1).convert(VectorOperators.I2F, 0))
                    .fma(e01.mul(d1), a00);
            a01 = ((FloatVector) s01.convertShape(VectorOperators.S2I, I, 0).convert(VectorOperators.I2F, 0))
                    .fma(e10.mul(d0), a01);
            a01 = ((FloatVector) s01.convertShape(VectorOperators.S2I, I, 1).convert(VectorOperators.I2F, 0))
                    .fma(e11.mul(d1), a01);
            d = IntVector.fromMemorySegment(I, data, scales + 2 * LANES, ByteOrder.LITTLE_ENDIAN);
            d0 = d.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 3).and(Simd.HALF_MASK)
                    .reinterpretAsFloats();
            d1 = d.lanewise(VectorOperators.ASHR, 3).and(Simd.HALF_MASK).reinterpretAsFloats();
            a10 = ((FloatVector) s10.convertShape(VectorOperators.S2I, I, 0).convert(VectorOperators.I2F, 0))
                    .fma(e00.mul(d0), a10);
            a10 = ((FloatVector) s10.convertShape(VectorOperators.S2I, I, 1).convert(VectorOperators.I2F, 0))
                    .fma(e01.mul(d1), a10);
            a11 = ((FloatVector) s11.convertShape(VectorOperators.S2I, I, 0).convert(VectorOperators.I2F, 0))
                    .fma(e10.mul(d0), a11);
            a11 = ((FloatVector) s11.convertShape(VectorOperators.S2I, I, 1).convert(VectorOperators.I2F, 0))
                    .fma(e11.mul(d1), a11);
            d = IntVector.fromMemorySegment(I, data, scales + 4 * LANES, ByteOrder.LITTLE_ENDIAN);
            d0 = d.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 3).and(Simd.HALF_MASK)
                    .reinterpretAsFloats();
            d1 = d.lanewise(VectorOperators.ASHR, 3).and(Simd.HALF_MASK).reinterpretAsFloats();
            a20 = ((FloatVector) s20.convertShape(VectorOperators.S2I, I, 0).convert(VectorOperators.I2F, 0))
                    .fma(e00.mul(d0), a20);
            a20 = ((FloatVector) s20.convertShape(VectorOperators.S2I, I, 1).convert(VectorOperators.I2F, 0))
                    .fma(e01.mul(d1), a20);
            a21 = ((FloatVector) s21.convertShape(VectorOperators.S2I, I, 0).convert(VectorOperators.I2F, 0))
                    .fma(e10.mul(d0), a21);
            a21 = ((FloatVector) s21.convertShape(VectorOperators.S2I, I, 1).convert(VectorOperators.I2F, 0))
                    .fma(e11.mul(d1), a21);
            d = IntVector.fromMemorySegment(I, data, scales + 6 * LANES, ByteOrder.LITTLE_ENDIAN);
            d0 = d.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 3).and(Simd.HALF_MASK)
                    .reinterpretAsFloats();
            d1 = d.lanewise(VectorOperators.ASHR, 3).and(Simd.HALF_MASK).reinterpretAsFloats();
            a30 = ((FloatVector) s30.convertShape(VectorOperators.S2I, I, 0).convert(VectorOperators.I2F, 0))
                    .fma(e00.mul(d0), a30);
            a30 = ((FloatVector) s30.convertShape(VectorOperators.S2I, I, 1).convert(VectorOperators.I2F, 0))
                    .fma(e01.mul(d1), a30);
            a31 = ((FloatVector) s31.convertShape(VectorOperators.S2I, I, 0).convert(VectorOperators.I2F, 0))
                    .fma(e10.mul(d0), a31);
            a31 = ((FloatVector) s31.convertShape(VectorOperators.S2I, I, 1).convert(VectorOperators.I2F, 0))
                    .fma(e11.mul(d1), a31);
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

    /** Per row, its block scales, decoded once for the four vectors. */
    @Override
    public void addQuadGroup4(long group, Q8Activations x, int xs, int blocks, QuadScratch scratch) {
        for (int i = 0; i < QUAD; i++) {
            // The weight scales as Simd.highHalfUnscaled takes them, times its 2¹¹².
            IntVector d = IntVector.fromMemorySegment(I, data, group + STEPS_BYTES + 2L * i * LANES,
                    ByteOrder.LITTLE_ENDIAN);
            FloatVector d0 = d.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 3)
                    .and(Simd.HALF_MASK).reinterpretAsFloats().mul(Simd.HALF_REBIAS);
            FloatVector d1 = d.lanewise(VectorOperators.ASHR, 3).and(Simd.HALF_MASK).reinterpretAsFloats()
                    .mul(Simd.HALF_REBIAS);
            for (int u = 0; u < FOUR; u++) {
                int at = (FOUR * u + i) * L;
                int xu = xs + u * blocks;
                ShortVector s = ShortVector.fromArray(S_FULL, scratch.ints, (FOUR * u + i) * LANES);
                FloatVector a = FloatVector.fromArray(F, scratch.sums, at);
                a = ((FloatVector) s.convertShape(VectorOperators.S2I, I, 0).convert(VectorOperators.I2F, 0))
                        .fma(d0.mul(FloatVector.fromArray(F, x.scales, xu)), a);
                a = ((FloatVector) s.convertShape(VectorOperators.S2I, I, 1).convert(VectorOperators.I2F, 0))
                        .fma(d1.mul(FloatVector.fromArray(F, x.scales, xu + L)), a);
                a.intoArray(scratch.sums, at);
            }
        }
    }

    /** One row of a quad over the whole groups, for the rows of quads a range cuts; loads written out as above. */
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
            ShortVector sum = last ? ShortVector.zero(S_FULL) : ShortVector.fromArray(S_FULL, x.q4Offsets, xs);
            for (int j = 0; j < QK; j++) {
                ShortVector q = ShortVector.fromMemorySegment(S_FULL, data, group + (long) j * STEP_BYTES,
                        ByteOrder.LITTLE_ENDIAN).lanewise(VectorOperators.ASHR, shift).and(mask);
                sum = sum.add(q.mul((ShortVector) ByteVector.fromArray(B_HALF, x.values, xg + j * LANES)
                        .convertShape(VectorOperators.B2S, S_FULL, 0)));
            }
            IntVector d = IntVector.fromMemorySegment(I, data, group + STEPS_BYTES + 2L * LANES * i,
                    ByteOrder.LITTLE_ENDIAN);
            FloatVector e0 = FloatVector.fromArray(F, x.scales, xs).mul(Simd.HALF_REBIAS);
            FloatVector e1 = FloatVector.fromArray(F, x.scales, xs + L).mul(Simd.HALF_REBIAS);
            acc = ((FloatVector) sum.convertShape(VectorOperators.S2I, I, 0).convert(VectorOperators.I2F, 0))
                    .fma(e0.mul(d.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 3)
                            .and(Simd.HALF_MASK).reinterpretAsFloats()), acc);
            acc = ((FloatVector) sum.convertShape(VectorOperators.S2I, I, 1).convert(VectorOperators.I2F, 0))
                    .fma(e1.mul(d.lanewise(VectorOperators.ASHR, 3).and(Simd.HALF_MASK).reinterpretAsFloats()), acc);
        }
        for (VectorShuffle<Float> halving : VectorMath.HALVINGS) {
            acc = acc.add(acc.rearrange(halving));
        }
        return acc.lane(0);
    }

    /** Byte offset of tail block b (counted from the start of the row) of a row. */
    private long tailOf(int row, int b) {
        int i = row % QUAD;
        return rowOffset(row - i) + groups(cols) * quadGroupBytes
                + ((long) i * tailBlocks + b - groups(cols) * LANES) * BLOCK_BYTES;
    }

    @Override
    float tailDot(int row, Q8Activations x, int t) {
        float tail = 0f;
        for (int b = groups(cols) * LANES; b < cols / QK; b++) {
            long block = tailOf(row, b);
            ShortVector q = shorts16(block + 2);
            int sum = tailBlockDot(q.and((short) 0x0f).sub((short) 8),
                    q.lanewise(VectorOperators.LSHR, 4).and((short) 0x0f).sub((short) 8), x, t, b * QK);
            tail += Simd.f16(data, block) * x.scale(t, b) * sum;
        }
        return tail;
    }

    /** Nibble u of value j of block b of a row (0–15), for the scalar paths. */
    private int nibble(int row, int b, int j) {
        if (inTail(b)) {
            int qs = data.get(ValueLayout.JAVA_BYTE, tailOf(row, b) + 2 + j % (QK / 2));
            return j < QK / 2 ? qs & 0x0f : (qs >> 4) & 0x0f;
        }
        int i = row % QUAD;
        long step = rowOffset(row - i) + (b / LANES) * quadGroupBytes + (long) j * STEP_BYTES;
        return quadNibble(step, b % LANES, i);
    }

    /** Scale d of block b of a row, for the scalar paths. */
    private float scale(int row, int b) {
        if (inTail(b)) {
            return Simd.f16(data, tailOf(row, b));
        }
        int i = row % QUAD;
        long group = rowOffset(row - i) + (b / LANES) * quadGroupBytes;
        return Simd.f16(data, group + STEPS_BYTES + 2L * LANES * i + scaleOffset(b % LANES));
    }

    @Override
    float dotScalar(int row, Q8Activations x, int t) {
        float sum = 0f;
        for (int b = 0; b < cols / QK; b++) {
            int blockSum = 0;
            for (int j = 0; j < QK; j++) {
                blockSum += (nibble(row, b, j) - 8) * x.value(t, b * QK + j);
            }
            sum += scale(row, b) * x.scale(t, b) * blockSum;
        }
        return sum;
    }

    @Override
    void dequantizeBlock(int row, int b, float[] out, int outOffset) {
        float d = scale(row, b);
        for (int j = 0; j < QK; j++) {
            out[outOffset + j] = d * (nibble(row, b, j) - 8);
        }
    }

    @Override
    public void dequantizeRowStored(int row, float[] out, int outOffset) {
        int i = row % QUAD;
        for (int g = 0; g < groups(cols); g++) {
            long group = rowOffset(row - i) + g * quadGroupBytes;
            FloatVector d0 = halvesLow(group + STEPS_BYTES + 2L * LANES * i);
            FloatVector d1 = halvesHigh(group + STEPS_BYTES + 2L * LANES * i);
            for (int j = 0; j < QK; j++) {
                ShortVector q = quadValues(group + (long) j * STEP_BYTES, i);
                int o = outOffset + g * QK * LANES + j * LANES;
                ((FloatVector) q.convertShape(VectorOperators.S2I, I, 0).convert(VectorOperators.I2F, 0)).mul(d0)
                        .intoArray(out, o);
                ((FloatVector) q.convertShape(VectorOperators.S2I, I, 1).convert(VectorOperators.I2F, 0)).mul(d1)
                        .intoArray(out, o + L);
            }
        }
        for (int b = groups(cols) * LANES; b < cols / QK; b++) {
            dequantizeBlock(row, b, out, outOffset + b * QK);
        }
    }

    @Override
    public boolean intOffsets() {
        return false;
    }

    /** q = nibble − 8, the scale d. */
    @Override
    public void decodeRowsInt(int row, int count, short[] q, int qOffset, int qStride, float[] scales,
                              float[] offsets, int gOffset, int gStride) {
        decodeQuadRowsInt(row, count, q, qOffset, qStride, scales, offsets, gOffset, gStride);
    }

    @Override
    public void decodeRowScales(int row, short[] q, int qOffset, float[] scales, float[] offsets, int gOffset) {
        int i = row % QUAD;
        for (int g = 0; g < groups(cols); g++) {
            long pairs = rowOffset(row - i) + g * quadGroupBytes + STEPS_BYTES + 2L * LANES * i;
            halvesLow(pairs).intoArray(scales, gOffset + g * LANES);
            halvesHigh(pairs).intoArray(scales, gOffset + g * LANES + L);
        }
        for (int b = groups(cols) * LANES; b < cols / QK; b++) {
            scales[gOffset + b] = scale(row, b);
            for (int j = 0; j < QK; j++) {
                q[qOffset + b * QK + j] = (short) (nibble(row, b, j) - 8);
            }
        }
    }

    @Override
    int[] storedOrder(int cols) {
        return valueOrder(cols);
    }
}
