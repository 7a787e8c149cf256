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
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.util.Arrays;

import static dev.nemotron4j.tensor.Simd.F;
import static dev.nemotron4j.tensor.Simd.I;
import static dev.nemotron4j.tensor.Simd.L;

/**
 * A block format repacked once at load time for decode: each row is cut into groups of {@link #LANES} blocks, and a
 * group stores value j of all its blocks next to each other, so one vector holds one block per lane. The dot product
 * then multiplies weights and {@link Q8Activations 8-bit activations} as 16-bit integers lane by lane, adds up whole
 * blocks without any horizontal sum, and converts to float once per group (block scales are per lane too). That takes
 * a fraction of the vector instructions per weight of the float path, which is what bounds decoding on a few cores.
 * For Q4_0, Q4_1 and Q8_0 the bytes per block are those of the source format, so the packed copy replaces the mapped
 * one in memory; Q4_K, Q5_K and Q6_K, converted at load, take 19, 25 and 28 bytes per 32 values against their 18,
 * 22 and 26.25.
 *
 * <p>A group starts with its {@code LANES} f16 block scales, as pairs: 32-bit word i holds the scale of block i in its
 * low half and that of block i + LANES/2 in its high half, which is the order the float lanes take them in. Blocks
 * after the last whole group (the tail, e.g. 8 of the 360 blocks of an 11520-wide row) follow in the source format.
 * Q4_K and Q6_K, converted from their super-blocks at load, have headers of their own ({@link Q4_KPackedTensor},
 * {@link Q6_KPackedTensor}); Q4_0 and Q4_K keep four rows together in each group, their scales after the steps
 * ({@link Q4_0PackedTensor}).
 */
public abstract sealed class PackedTensor extends WeightTensor
        permits KPackedTensor, Q4_0PackedTensor, Q4_1PackedTensor, Q6_KPackedTensor, Q8_0PackedTensor {
    /** Sixteen shorts / bytes: half a block, the unit of the tail blocks. */
    static final VectorSpecies<Short> S_HALF = ShortVector.SPECIES_256;
    static final VectorSpecies<Byte> B16 = ByteVector.SPECIES_128;
    /** Blocks per group: the 16-bit lanes of a full vector (32 with AVX-512, 16 with AVX2). */
    public static final int LANES = Simd.S_FULL.length();
    static final int QK = Q8Activations.QK;

    private final int[] storedOrder;
    /** Whether rows end in tail blocks (most widths of real models are whole groups). */
    private final boolean hasTail;
    /** Bytes of one block of the source format, and of a group of LANES of them. */
    final int blockBytes;
    final long groupBytes;
    /** Bytes of a block's header (its scales), before the bytes that become steps; what packing xors those with. */
    private final int headerBytes;
    private final int flip;

    PackedTensor(MemorySegment data, int rows, int cols, int blockBytes, int headerBytes, int flip) {
        this(data, rows, cols, blockBytes, headerBytes, flip, (long) cols / QK * blockBytes);
    }

    /** A layout whose tail blocks take other than {@code blockBytes} each, in rows of {@code rowBytes}. */
    PackedTensor(MemorySegment data, int rows, int cols, int blockBytes, int headerBytes, int flip, long rowBytes) {
        super(data, rows, cols, rowBytes);
        this.blockBytes = blockBytes;
        this.groupBytes = (long) blockBytes * LANES;
        this.headerBytes = headerBytes;
        this.flip = flip;
        storedOrder = storedOrder(cols);
        hasTail = groups(cols) * LANES < cols / QK;
    }

    /** Fills {@code into} with a row's bytes in the source block format (the packer's input). */
    interface RowSource {
        void read(int row, byte[] into);
    }

    /** Reads rows straight from a tensor whose blocks are already in the source format. */
    static RowSource rowsOf(WeightTensor source) {
        int rowBytes = (int) source.rowBytes;
        return (row, into) -> MemorySegment.copy(source.data(), ValueLayout.JAVA_BYTE, (long) row * rowBytes, into, 0,
                rowBytes);
    }

    /**
     * Packs rows [from, to) of {@code cols} values into {@code dst} (which may be the source's own memory): per block,
     * each f16 half of its header (the scale, then for Q4_1 the minimum) goes to the group's pairs of that half (see
     * {@link #scaleOffset}), and its byte j after the header, xor {@code flip}, to step j, lane k; tail blocks are
     * copied as they are.
     */
    static void pack(RowSource source, int cols, MemorySegment dst, int from, int to, int blockBytes, int steps,
                     int flip) {
        int blocks = cols / QK;
        int packed = groups(cols) * LANES;
        int rowBytes = blocks * blockBytes;
        int groupBytes = blockBytes * LANES;
        int headerBytes = blockBytes - steps;
        byte[] row = new byte[rowBytes];
        byte[] out = new byte[rowBytes];
        long[] eight = new long[8];
        for (int r = from; r < to; r++) {
            source.read(r, row);
            for (int b = 0; b < packed; b++) {
                for (int h = 0; h < headerBytes; h += 2) {
                    int half = (b / LANES) * groupBytes + h * LANES + scaleOffset(b % LANES);
                    out[half] = row[b * blockBytes + h];
                    out[half + 1] = row[b * blockBytes + h + 1];
                }
            }
            transposeSteps(row, packed / LANES, blockBytes, steps, flip, out, eight);
            System.arraycopy(row, packed * blockBytes, out, packed * blockBytes, (blocks - packed) * blockBytes);
            MemorySegment.copy(out, 0, dst, ValueLayout.JAVA_BYTE, (long) r * rowBytes, rowBytes);
        }
    }

    /**
     * Moves bytes j = 0 … steps−1 after the header of each block of the first {@code groups} groups of {@code row}
     * (blocks of {@code blockBytes}, the header first) to step j, lane k of {@code out} (groups of the same size, the
     * headers of all LANES blocks first), xor {@code flip}; {@code eight} is scratch.
     */
    static void transposeSteps(byte[] row, int groups, int blockBytes, int steps, int flip, byte[] out, long[] eight) {
        int groupBytes = blockBytes * LANES;
        int headerBytes = blockBytes - steps;
        long flip8 = (flip & 0xffL) * 0x0101010101010101L;
        for (int g = 0; g < groups; g++) {
            for (int k0 = 0; k0 < LANES; k0 += 8) {
                for (int j0 = 0; j0 < steps; j0 += 8) {
                    transpose8(row, g * groupBytes + k0 * blockBytes + headerBytes + j0, blockBytes, eight);
                    for (int j = 0; j < 8; j++) {
                        BYTES_AS_LONGS.set(out, g * groupBytes + headerBytes * LANES + (j0 + j) * LANES + k0,
                                eight[j] ^ flip8);
                    }
                }
            }
        }
    }

    /** Whether matrices of {@code type} have a packed form. */
    public static boolean packs(GGMLType type) {
        return switch (type) {
            case Q4_0, Q4_1, Q8_0, Q4_K, Q5_K, Q6_K -> true;
            default -> false;
        };
    }

    /**
     * Bytes the packed form of a rows × cols matrix of {@code type} takes: the source's for Q4_1, Q8_0 and Q4_0 with
     * whole quads of rows (which may then be packed in place), more for the K formats and other Q4_0.
     */
    public static long byteSize(GGMLType type, int rows, int cols) {
        return switch (type) {
            case Q4_0 -> Q4_0PackedTensor.byteSize(rows, cols);
            case Q4_K -> Q4_KPackedTensor.byteSize(rows, cols);
            case Q5_K -> Q5_KPackedTensor.byteSize(rows, cols);
            case Q6_K -> Q6_KPackedTensor.byteSize(rows, cols);
            default -> type.byteSize(cols) * rows;
        };
    }

    /** Rows {@link #pack} lays out together: a range given to it starts at a multiple of this. */
    public static int packedRows(GGMLType type) {
        return type == GGMLType.Q4_0 || type == GGMLType.Q4_K ? QUAD : 1;
    }

    /**
     * Packs rows [from, to) of {@code source}, whose type {@link #packs packs}, into {@code dst} (which may be the
     * source's own memory where the sizes agree); {@code from} is a multiple of {@link #packedRows} and {@code to} too
     * or the row count. Returns false if the rows cannot be packed: a Q6_K scale beyond the f16 range, which no
     * trained model has.
     */
    public static boolean pack(WeightTensor source, MemorySegment dst, int from, int to) {
        switch (source) {
            case Q4_0Tensor q -> Q4_0PackedTensor.pack(q, dst, from, to);
            case Q4_1Tensor q -> Q4_1PackedTensor.pack(q, dst, from, to);
            case Q8_0Tensor q -> Q8_0PackedTensor.pack(q, dst, from, to);
            case Q4_KTensor q -> Q4_KPackedTensor.pack(q, dst, from, to);
            case Q5_KTensor q -> Q5_KPackedTensor.pack(q, dst, from, to);
            case Q6_KTensor q -> {
                return Q6_KPackedTensor.pack(q, dst, from, to);
            }
            default -> throw new IllegalArgumentException(source.type() + " has no packed form");
        }
        return true;
    }

    /** A view of bytes {@link #pack} wrote for a rows × cols matrix of {@code type}. */
    public static PackedTensor view(GGMLType type, MemorySegment data, int rows, int cols) {
        return switch (type) {
            case Q4_0 -> Q4_0PackedTensor.of(data, rows, cols);
            case Q4_1 -> Q4_1PackedTensor.of(data, rows, cols);
            case Q8_0 -> Q8_0PackedTensor.of(data, rows, cols);
            case Q4_K -> Q4_KPackedTensor.of(data, rows, cols);
            case Q5_K -> Q5_KPackedTensor.of(data, rows, cols);
            case Q6_K -> Q6_KPackedTensor.of(data, rows, cols);
            default -> throw new IllegalArgumentException(type + " has no packed form");
        };
    }

    /** Whether rows of {@code cols} values can be packed: whole blocks, at least one whole group. */
    public static boolean fits(int cols) {
        return cols % QK == 0 && groups(cols) > 0;
    }

    /** Rows that Q4_0 and Q4_K lay out together, a quad (see {@link Q4_0PackedTensor}). */
    static final int QUAD = 4;
    /** Bytes of a quad step: LANES shorts. */
    static final int STEP_BYTES = 2 * LANES;
    /** Bytes of a quad group's 32 steps, which its scales follow. */
    static final int STEPS_BYTES = QK * STEP_BYTES;

    /** Vectors per {@link #quadDots4} call. */
    static final int FOUR = 4;

    /** Per thread: a quad group's block sums and a quad's float sums, for {@link #quadDots4}. */
    static final class QuadScratch {
        /** ints[(FOUR·u + i)·LANES + k]: the sum of block k of row i · vector t + u, offset included. */
        final short[] ints = new short[QUAD * FOUR * LANES];
        /** sums[(FOUR·u + i)·L …]: row i · vector t + u so far, lane by lane. */
        final float[] sums = new float[QUAD * FOUR * L];
        /** A row's block scales and offsets in a group, for a format that decodes its header to them. */
        final float[] blockScales = new float[LANES];
        final float[] blockOffsets = new float[LANES];
    }

    static final ThreadLocal<QuadScratch> QUAD_SCRATCH = ThreadLocal.withInitial(QuadScratch::new);

    /**
     * The exact block sums of a quad group's four rows with vectors t … t+3 (their values from xg, a vector's
     * {@code cols} apart, their offsets from xs, {@code blocks} apart), as {@link Q4_0PackedTensor} derives them,
     * into ints: each step's three shifts serve the four vectors, and the 16 sums stay in registers for the 32 steps.
     */
    static void quadGroupSums4(MemorySegment data, long group, Q8Activations x, int xg, int xs, int cols, int blocks,
                               short[] ints) {
        byte[] values = x.values;
        ShortVector s00 = ShortVector.zero(Simd.S_FULL);
        ShortVector s01 = ShortVector.zero(Simd.S_FULL);
        ShortVector s02 = ShortVector.zero(Simd.S_FULL);
        ShortVector s03 = ShortVector.zero(Simd.S_FULL);
        ShortVector s10 = ShortVector.zero(Simd.S_FULL);
        ShortVector s11 = ShortVector.zero(Simd.S_FULL);
        ShortVector s12 = ShortVector.zero(Simd.S_FULL);
        ShortVector s13 = ShortVector.zero(Simd.S_FULL);
        ShortVector s20 = ShortVector.zero(Simd.S_FULL);
        ShortVector s21 = ShortVector.zero(Simd.S_FULL);
        ShortVector s22 = ShortVector.zero(Simd.S_FULL);
        ShortVector s23 = ShortVector.zero(Simd.S_FULL);
        ShortVector s30 = ShortVector.zero(Simd.S_FULL);
        ShortVector s31 = ShortVector.zero(Simd.S_FULL);
        ShortVector s32 = ShortVector.zero(Simd.S_FULL);
        ShortVector s33 = ShortVector.zero(Simd.S_FULL);
        for (int j = 0; j < QK; j++) {
            ShortVector q0 = ShortVector.fromMemorySegment(Simd.S_FULL, data, group + (long) j * STEP_BYTES,
                    ByteOrder.LITTLE_ENDIAN);
            ShortVector q1 = q0.lanewise(VectorOperators.ASHR, 4);
            ShortVector q2 = q0.lanewise(VectorOperators.ASHR, 8);
            ShortVector q3 = q0.lanewise(VectorOperators.ASHR, 12);
            ShortVector v = (ShortVector) ByteVector.fromArray(Simd.B_HALF, values, xg + j * LANES)
                    .convertShape(VectorOperators.B2S, Simd.S_FULL, 0);
            s00 = s00.add(q0.mul(v));
            s10 = s10.add(q1.mul(v));
            s20 = s20.add(q2.mul(v));
            s30 = s30.add(q3.mul(v));
            v = (ShortVector) ByteVector.fromArray(Simd.B_HALF, values, xg + cols + j * LANES)
                    .convertShape(VectorOperators.B2S, Simd.S_FULL, 0);
            s01 = s01.add(q0.mul(v));
            s11 = s11.add(q1.mul(v));
            s21 = s21.add(q2.mul(v));
            s31 = s31.add(q3.mul(v));
            v = (ShortVector) ByteVector.fromArray(Simd.B_HALF, values, xg + 2 * cols + j * LANES)
                    .convertShape(VectorOperators.B2S, Simd.S_FULL, 0);
            s02 = s02.add(q0.mul(v));
            s12 = s12.add(q1.mul(v));
            s22 = s22.add(q2.mul(v));
            s32 = s32.add(q3.mul(v));
            v = (ShortVector) ByteVector.fromArray(Simd.B_HALF, values, xg + 3 * cols + j * LANES)
                    .convertShape(VectorOperators.B2S, Simd.S_FULL, 0);
            s03 = s03.add(q0.mul(v));
            s13 = s13.add(q1.mul(v));
            s23 = s23.add(q2.mul(v));
            s33 = s33.add(q3.mul(v));
        }
        ShortVector offsets = ShortVector.fromArray(Simd.S_FULL, x.q4Offsets, xs);
        s00.sub(s10.lanewise(VectorOperators.LSHL, 4)).add(offsets).intoArray(ints, 0);
        s10.sub(s20.lanewise(VectorOperators.LSHL, 4)).add(offsets).intoArray(ints, 1 * LANES);
        s20.sub(s30.lanewise(VectorOperators.LSHL, 4)).add(offsets).intoArray(ints, 2 * LANES);
        s30.intoArray(ints, 3 * LANES);
        offsets = ShortVector.fromArray(Simd.S_FULL, x.q4Offsets, xs + blocks);
        s01.sub(s11.lanewise(VectorOperators.LSHL, 4)).add(offsets).intoArray(ints, 4 * LANES);
        s11.sub(s21.lanewise(VectorOperators.LSHL, 4)).add(offsets).intoArray(ints, 5 * LANES);
        s21.sub(s31.lanewise(VectorOperators.LSHL, 4)).add(offsets).intoArray(ints, 6 * LANES);
        s31.intoArray(ints, 7 * LANES);
        offsets = ShortVector.fromArray(Simd.S_FULL, x.q4Offsets, xs + 2 * blocks);
        s02.sub(s12.lanewise(VectorOperators.LSHL, 4)).add(offsets).intoArray(ints, 8 * LANES);
        s12.sub(s22.lanewise(VectorOperators.LSHL, 4)).add(offsets).intoArray(ints, 9 * LANES);
        s22.sub(s32.lanewise(VectorOperators.LSHL, 4)).add(offsets).intoArray(ints, 10 * LANES);
        s32.intoArray(ints, 11 * LANES);
        offsets = ShortVector.fromArray(Simd.S_FULL, x.q4Offsets, xs + 3 * blocks);
        s03.sub(s13.lanewise(VectorOperators.LSHL, 4)).add(offsets).intoArray(ints, 12 * LANES);
        s13.sub(s23.lanewise(VectorOperators.LSHL, 4)).add(offsets).intoArray(ints, 13 * LANES);
        s23.sub(s33.lanewise(VectorOperators.LSHL, 4)).add(offsets).intoArray(ints, 14 * LANES);
        s33.intoArray(ints, 15 * LANES);
    }

    /**
     * Rows r0 … r0+3 · vectors t … t+3 over the whole groups, into out: per group the block sums of
     * {@link #quadGroupSums4}, which each format's {@link Quads#addQuadGroup4} scales by its rows' headers (decoded
     * once for the four vectors).
     */
    final void quadDots4(int r0, Q8Activations x, int t, float[] out, QuadScratch scratch) {
        int blocks = cols / QK;
        long quad = rowOffset(r0);
        Arrays.fill(scratch.sums, 0f);
        for (int g = 0; g < groups(cols); g++) {
            long group = quad + g * QUAD * groupBytes;
            int xs = t * blocks + g * LANES;
            quadGroupSums4(data, group, x, t * cols + g * QK * LANES, xs, cols, blocks, scratch.ints);
            ((Quads) this).addQuadGroup4(group, x, xs, blocks, scratch);
        }
        storeQuadSums4(scratch.sums, r0, t, out);
    }

    /** Row i · vector t + u from {@link QuadScratch#sums} to out, for the four rows and vectors. */
    private void storeQuadSums4(float[] sums, int r0, int t, float[] out) {
        for (int u = 0; u < FOUR; u++) {
            FloatVector a0 = FloatVector.fromArray(F, sums, FOUR * u * L);
            FloatVector a1 = FloatVector.fromArray(F, sums, (FOUR * u + 1) * L);
            FloatVector a2 = FloatVector.fromArray(F, sums, (FOUR * u + 2) * L);
            FloatVector a3 = FloatVector.fromArray(F, sums, (FOUR * u + 3) * L);
            FloatVector a01 = a0.blend(a1, VectorMath.UPPER_HALF)
                    .add(a1.blend(a0, VectorMath.UPPER_HALF).rearrange(VectorMath.HALVINGS[0]));
            FloatVector a23 = a2.blend(a3, VectorMath.UPPER_HALF)
                    .add(a3.blend(a2, VectorMath.UPPER_HALF).rearrange(VectorMath.HALVINGS[0]));
            FloatVector all = a01.blend(a23, VectorMath.ODD_QUARTERS)
                    .add(a23.blend(a01, VectorMath.ODD_QUARTERS).rearrange(VectorMath.HALVINGS[1]));
            for (int h = 2; h < VectorMath.HALVINGS.length; h++) {
                all = all.add(all.rearrange(VectorMath.HALVINGS[h]));
            }
            int at = (t + u) * rows + r0;
            out[at] = all.lane(0);
            out[at + 1] = all.lane(L / 2);
            out[at + 2] = all.lane(L / 4);
            out[at + 3] = all.lane(3 * L / 4);
        }
    }

    /**
     * Steps j and j + 16 (j &lt; 16) of a quad group, from the four rows' byte steps: {@code rowSteps[i][at + j·LANES
     * + k]} holds value j of block k of row i in its low nibble and value j + 16 in its high nibble, that one xor
     * {@code flip}. Short k of quad step j then holds row i's nibble of value j at bits 4i, the last row's xor 8.
     */
    static void quadSteps(byte[][] rowSteps, int at, int flip, byte[] out, int outAt) {
        for (int j = 0; j < QK / 2; j++) {
            ShortVector low = ShortVector.zero(Simd.S_FULL);
            ShortVector high = low;
            for (int i = 0; i < QUAD; i++) {
                ShortVector b = (ShortVector) ByteVector.fromArray(Simd.B_HALF, rowSteps[i], at + j * LANES)
                        .convertShape(VectorOperators.B2S, Simd.S_FULL, 0);
                short last = (short) (i == QUAD - 1 ? 8 : 0);
                low = low.or(b.and((short) 0x0f).lanewise(VectorOperators.XOR, last)
                        .lanewise(VectorOperators.LSHL, 4 * i));
                high = high.or(b.lanewise(VectorOperators.LSHR, 4).and((short) 0x0f)
                        .lanewise(VectorOperators.XOR, (short) (last ^ flip >> 4))
                        .lanewise(VectorOperators.LSHL, 4 * i));
            }
            low.reinterpretAsBytes().intoArray(out, outAt + j * 2 * LANES);
            high.reinterpretAsBytes().intoArray(out, outAt + (j + QK / 2) * 2 * LANES);
        }
    }

    /** Row i's values u − 8 in the quad step at {@code step}, for the paths that decode whole rows. */
    final ShortVector quadValues(long step, int i) {
        ShortVector q = ShortVector.fromMemorySegment(Simd.S_FULL, data, step, ByteOrder.LITTLE_ENDIAN)
                .lanewise(VectorOperators.ASHR, 4 * i);
        return i == QUAD - 1 ? q : q.and((short) 0x0f).sub((short) 8);
    }

    /**
     * {@link IntegerRows#decodeRowsInt} of the layouts that keep four rows together: each whole quad's values over the
     * whole groups from one load of each step for all its rows ({@link #quadSteps}), the rows of a quad that the run
     * cuts one by one; then each row's {@link Quads#decodeRowScales}.
     */
    final void decodeQuadRowsInt(int row, int count, short[] q, int qOffset, int qStride, float[] scales,
                                 float[] offsets, int gOffset, int gStride) {
        Quads quads = (Quads) this;
        for (int done = 0; done < count; ) {
            int first = (row + done) % QUAD;
            int rows = Math.min(QUAD - first, count - done);
            long quad = rowOffset(row + done - first);
            int at = qOffset + done * qStride;
            for (int g = 0; g < groups(cols); g++) {
                long steps = quad + g * QUAD * groupBytes;
                if (rows == QUAD) {
                    quadSteps(steps, q, at + g * QK * LANES, qStride);
                    continue;
                }
                for (int i = 0; i < rows; i++) {
                    for (int j = 0; j < QK; j++) {
                        quadValues(steps + (long) j * STEP_BYTES, first + i)
                                .intoArray(q, at + i * qStride + g * QK * LANES + j * LANES);
                    }
                }
            }
            for (int i = 0; i < rows; i++) {
                quads.decodeRowScales(row + done + i, q, at + i * qStride, scales, offsets,
                        gOffset + (done + i) * gStride);
            }
            done += rows;
        }
    }

    /**
     * The 32 steps of a group of a whole quad, its four rows written out with constant shifts: a loop over the rows
     * (a variable shift, and a branch for the last row, as {@link #quadValues} takes) took twice the time
     * (1024 × 3072 Q4_0, one thread: 1.05 against 0.55 ms).
     */
    private void quadSteps(long steps, short[] q, int at, int stride) {
        for (int j = 0; j < QK; j++) {
            ShortVector v = ShortVector.fromMemorySegment(Simd.S_FULL, data, steps + (long) j * STEP_BYTES,
                    ByteOrder.LITTLE_ENDIAN);
            int to = at + j * LANES;
            v.and((short) 0x0f).sub((short) 8).intoArray(q, to);
            v.lanewise(VectorOperators.ASHR, 4).and((short) 0x0f).sub((short) 8).intoArray(q, to + stride);
            v.lanewise(VectorOperators.ASHR, 8).and((short) 0x0f).sub((short) 8).intoArray(q, to + 2 * stride);
            v.lanewise(VectorOperators.ASHR, 12).intoArray(q, to + 3 * stride);
        }
    }

    /** Row i's nibble u (0–15) in lane k of the quad step at {@code step}, for the scalar paths. */
    final int quadNibble(long step, int k, int i) {
        int s = data.get(Simd.LE_SHORT, step + 2L * k);
        return ((s >> 4 * i) & 0x0f) ^ (i == QUAD - 1 ? 8 : 0);
    }

    /**
     * The stored order of layouts whose step j holds value j of each block (as the activations are laid out): position
     * g·32·LANES + j·LANES + k is value j of block g·LANES + k; tail blocks in column order.
     */
    static int[] valueOrder(int cols) {
        int[] order = new int[cols];
        for (int c = 0; c < cols; c++) {
            order[c] = c;
        }
        for (int g = 0; g < groups(cols); g++) {
            for (int j = 0; j < QK; j++) {
                for (int k = 0; k < LANES; k++) {
                    order[g * QK * LANES + j * LANES + k] = (g * LANES + k) * QK + j;
                }
            }
        }
        return order;
    }

    /**
     * Adds the tail blocks' products of rows [from, to) with every vector to out. Rows without tail blocks skip the
     * calls: an empty tailDot per row and vector was 2.5 % of the 4B Q4_K_M decode's samples (JFR).
     */
    final void addTails(int from, int to, Q8Activations x, float[] out) {
        if (!hasTail) {
            return;
        }
        for (int r = from; r < to; r++) {
            for (int t = 0; t < x.vectors(); t++) {
                out[t * rows + r] += tailDot(r, x, t);
            }
        }
    }

    /** Whole groups in a row of {@code cols} values. */
    static int groups(int cols) {
        return cols / (QK * LANES);
    }

    /**
     * out[t·rows + r] = W[r]·x_t for rows r in [from, to) and every vector of {@code x}, with integer products (the
     * decode path).
     */
    public final void matmul(Q8Activations x, float[] out, int from, int to) {
        for (int r = from; r < to; ) {
            r += rowDots(r, to, x, out);
        }
    }

    /**
     * Row r times every vector, tail blocks included, or the whole quad at r for a layout that keeps rows in fours
     * ({@link Quads}), vectors four at a time, then two, then one; returns how many rows. Rows of a quad that the
     * range cuts go one by one.
     */
    private int rowDots(int r, int to, Q8Activations x, float[] out) {
        int n = x.vectors();
        if (this instanceof Quads quads && r % QUAD == 0 && r + QUAD <= to) {
            int fours = n / FOUR * FOUR;
            if (fours > 0) {
                QuadScratch scratch = QUAD_SCRATCH.get();
                for (int t = 0; t < fours; t += FOUR) {
                    quadDots4(r, x, t, out, scratch);
                }
            }
            int pairs = fours + (n - fours) / 2 * 2;
            for (int t = fours; t < pairs; t += 2) {
                quads.quadDots(r, x, t, out);
            }
            if (pairs < n) {
                quads.quadDot(r, x, pairs, out);
            }
            addTails(r, r + QUAD, x, out);
            return QUAD;
        }
        for (int t = 0; t < n; t++) {
            out[t * rows + r] = groupsDot(r, x, t);
        }
        addTails(r, r + 1, x, out);
        return 1;
    }

    /** The kernels of a layout that keeps four rows together in each group (Q4_0 and Q4_K). */
    sealed interface Quads permits Q4_0PackedTensor, Q4_KPackedTensor {
        /** Rows r0 … r0+3 · vector t over the whole groups, into out. */
        void quadDot(int r0, Q8Activations x, int t, float[] out);

        /** {@link #quadDot} for vectors t and t + 1 together. */
        void quadDots(int r0, Q8Activations x, int t, float[] out);

        /**
         * Adds the block sums of {@link #quadGroupSums4} for the quad group at byte {@code group}, in
         * {@code scratch.ints}, times the rows' block scales and the activation scales (from xs, {@code blocks}
         * apart), with the format's offsets, to {@code scratch.sums}.
         */
        void addQuadGroup4(long group, Q8Activations x, int xs, int blocks, QuadScratch scratch);

        /**
         * The integer form's scales (and offsets) of a row's blocks, at scales[gOffset + b], and the values of its
         * tail blocks, at q[qOffset + b·32 …]: what {@link #decodeQuadRowsInt} leaves to each format.
         */
        void decodeRowScales(int row, short[] q, int qOffset, float[] scales, float[] offsets, int gOffset);
    }

    /** Row · vector t over the whole groups: apart from the tail so that the JIT inlines every vector op of it. */
    abstract float groupsDot(int row, Q8Activations x, int t);

    /** Row · vector t over the tail blocks. */
    abstract float tailDot(int row, Q8Activations x, int t);

    /** Byte offset of group g of a row. */
    final long group(int row, int g) {
        return rowOffset(row) + g * groupBytes;
    }

    /**
     * Byte offset of tail block b (counted from the start of the row) of a row, where tail blocks take
     * {@code blockBytes} each (all layouts but Q4_K's, whose tail is whole Q4_K super-blocks).
     */
    final long tailBlock(int row, int b) {
        return rowOffset(row) + (long) b * blockBytes;
    }

    final boolean inTail(int b) {
        return b >= groups(cols) * LANES;
    }

    /** Byte j after the header of block b of a row, as the source block has it (0–255), for the scalar paths. */
    final int sourceByte(int row, int b, int j) {
        if (inTail(b)) {
            return data.get(ValueLayout.JAVA_BYTE, tailBlock(row, b) + headerBytes + j) & 0xff;
        }
        long step = group(row, b / LANES) + (long) headerBytes * LANES + (long) j * LANES;
        return (data.get(ValueLayout.JAVA_BYTE, step + b % LANES) ^ flip) & 0xff;
    }

    /** Scale of block b of a row, for the scalar paths. */
    final float blockScale(int row, int b) {
        return blockHalf(row, b, 0);
    }

    /** Half h of block b's header (0: the scale, 1: Q4_1's minimum), for the scalar paths. */
    final float blockHalf(int row, int b, int h) {
        if (inTail(b)) {
            return Simd.f16(data, tailBlock(row, b) + 2L * h);
        }
        return halfAt(group(row, b / LANES) + 2L * h * LANES, b % LANES);
    }

    @Override
    public final void dequantizeRow(int row, float[] out, int outOffset) {
        for (int b = 0; b < cols / QK; b++) {
            dequantizeBlock(row, b, out, outOffset + b * QK);
        }
    }

    /** The 32 values of block b of a row, in column order (scalar). */
    abstract void dequantizeBlock(int row, int b, float[] out, int outOffset);

    /** Scalar reference of {@link #matmul(Q8Activations, float[], int, int)} for one row and vector. */
    abstract float dotScalar(int row, Q8Activations x, int t);

    /** Row values in their stored order (see {@link #storedOrder()}), for the prompt matmul. */
    @Override
    public abstract void dequantizeRowStored(int row, float[] out, int outOffset);

    @Override
    public final int[] storedOrder() {
        return storedOrder;
    }

    /** The column each stored position of a row holds (the stored order of the format). */
    abstract int[] storedOrder(int cols);

    /**
     * The float dot product over the packed row, for callers that hold float activations (tests, single rows);
     * matmuls go through {@link #matmul(Q8Activations, float[], int, int)} or the prompt path instead.
     */
    @Override
    public final float dot(int row, float[] x, int xOffset) {
        float[] values = new float[cols];
        dequantizeRowStored(row, values, 0);
        float[] xs = new float[cols];
        for (int i = 0; i < cols; i++) {
            xs[i] = x[xOffset + storedOrder[i]];
        }
        FloatVector acc = FloatVector.zero(Simd.F);
        for (int p = 0; p < cols; p += L) { // cols is whole blocks of 32, a multiple of L
            acc = FloatVector.fromArray(Simd.F, values, p).fma(FloatVector.fromArray(Simd.F, xs, p), acc);
        }
        for (VectorShuffle<Float> halving : VectorMath.HALVINGS) {
            acc = acc.add(acc.rearrange(halving));
        }
        return acc.lane(0);
    }

    @Override
    public final float dotScalar(int row, float[] x, int xOffset) {
        float[] values = new float[cols];
        dequantizeRow(row, values, 0);
        float sum = 0f;
        for (int c = 0; c < cols; c++) {
            sum += values[c] * x[xOffset + c];
        }
        return sum;
    }

    /**
     * Σ_j q_j·x_j of a tail block's 32 signed values {@code q} (one short per value) and vector t's values from column
     * c, exact: shorts multiply in 16-bit lanes, two products at a time, then add up as ints.
     */
    static int tailBlockDot(ShortVector q0, ShortVector q1, Q8Activations x, int t, int c) {
        int i = x.index(t, c);
        ShortVector pair = q0.mul(widen(ByteVector.fromArray(B16, x.values, i)))
                .add(q1.mul(widen(ByteVector.fromArray(B16, x.values, i + QK / 2))));
        int sum = 0;
        for (int p = 0; p < S_HALF.length() / L; p++) {
            sum += ((IntVector) pair.convertShape(VectorOperators.S2I, I, p)).reduceLanes(VectorOperators.ADD);
        }
        return sum;
    }

    /** Sixteen bytes at {@code offset} as signed shorts. */
    final ShortVector shorts16(long offset) {
        return widen(ByteVector.fromMemorySegment(B16, data, offset, ByteOrder.LITTLE_ENDIAN));
    }

    private static ShortVector widen(ByteVector sixteen) {
        return (ShortVector) sixteen.convertShape(VectorOperators.B2S, S_HALF, 0);
    }

    /** LANES activation values from {@code offset}, widened to shorts. */
    static ShortVector activations(byte[] values, int offset) {
        return (ShortVector) ByteVector.fromArray(Simd.B_HALF, values, offset)
                .convertShape(VectorOperators.B2S, Simd.S_FULL, 0);
    }

    /**
     * The LANES f16 pairs at {@code pairs} (a group's block scales, or Q4_1's minimums) as two float vectors: lanes
     * 0 … LANES/2−1, then LANES/2 … LANES−1.
     */
    final FloatVector halvesLow(long pairs) {
        return IntVector.fromMemorySegment(I, data, pairs, ByteOrder.LITTLE_ENDIAN).lanewise(VectorOperators.LSHL, 16)
                .lanewise(VectorOperators.ASHR, 3).and(Simd.HALF_MASK).reinterpretAsFloats().mul(Simd.HALF_REBIAS);
    }

    final FloatVector halvesHigh(long pairs) {
        return IntVector.fromMemorySegment(I, data, pairs, ByteOrder.LITTLE_ENDIAN).lanewise(VectorOperators.ASHR, 3)
                .and(Simd.HALF_MASK).reinterpretAsFloats().mul(Simd.HALF_REBIAS);
    }

    /** Half of block {@code k} in the pairs at byte {@code pairs}, for the scalar paths. */
    private float halfAt(long pairs, int k) {
        return Float.float16ToFloat(data.get(Simd.LE_SHORT, pairs + scaleOffset(k)));
    }

    /** Little-endian views of byte arrays, for the packers that convert rows on the heap. */
    static final VarHandle BYTES_AS_SHORTS = MethodHandles.byteArrayViewVarHandle(short[].class,
            ByteOrder.LITTLE_ENDIAN);
    static final VarHandle BYTES_AS_LONGS = MethodHandles.byteArrayViewVarHandle(long[].class,
            ByteOrder.LITTLE_ENDIAN);

    /**
     * Bytes 0…7 of eight blocks, the first at {@code offset} and the next each {@code stride} further, transposed:
     * byte i of {@code rows[j]} is byte j of block i. Three rounds of swapping halves, quarters and single bytes of
     * an 8×8 byte matrix held in eight longs, a few ops per byte instead of a load and a store.
     */
    static void transpose8(byte[] src, int offset, int stride, long[] rows) {
        for (int i = 0; i < 8; i++) {
            rows[i] = (long) BYTES_AS_LONGS.get(src, offset + i * stride);
        }
        for (int i = 0; i < 4; i++) {
            long t = ((rows[i] >>> 32) ^ rows[i + 4]) & 0x00000000FFFFFFFFL;
            rows[i] ^= t << 32;
            rows[i + 4] ^= t;
        }
        for (int half = 0; half < 8; half += 4) {
            for (int i = half; i < half + 2; i++) {
                long t = ((rows[i] >>> 16) ^ rows[i + 2]) & 0x0000FFFF0000FFFFL;
                rows[i] ^= t << 16;
                rows[i + 2] ^= t;
            }
        }
        for (int i = 0; i < 8; i += 2) {
            long t = ((rows[i] >>> 8) ^ rows[i + 1]) & 0x00FF00FF00FF00FFL;
            rows[i] ^= t << 8;
            rows[i + 1] ^= t;
        }
    }

    /** Byte offset of block k's half in the pairs of its group (the pair layout). */
    static int scaleOffset(int k) {
        return 4 * (k % (LANES / 2)) + (k < LANES / 2 ? 0 : 2);
    }
}
