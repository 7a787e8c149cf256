package dev.nemotron4j.tensor;

import jdk.incubator.vector.VectorShuffle;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;

import static dev.nemotron4j.tensor.Simd.F;
import static dev.nemotron4j.tensor.Simd.L;

/**
 * What the packed forms of {@link Q4_KPackedTensor Q4_K} and {@link Q5_KPackedTensor Q5_K} share. Both formats give a
 * value of a 32-value sub-block as d·scale·q − dmin·min, with d and dmin per super-block of eight sub-blocks (f16 at
 * bytes 0 and 2 of the super-block) and 6-bit scale and min per sub-block (packed in the 12 bytes from byte 4). A
 * group of LANES blocks (LANES/8 whole super-blocks) starts with this header:
 * <pre>
 *   d of each super-block, then −dmin of each, as f32       LANES bytes
 *   the 6-bit scale of each block, one byte per block      LANES bytes
 *   the 6-bit min of each block, one byte per block        LANES bytes
 * </pre>
 * so that one float load and a lane shuffle spread the super-block numbers over the blocks. The super-blocks after
 * the last whole group (the tail, e.g. the last of an 11520-wide row's 45) stay as the source has them.
 */
abstract sealed class KPackedTensor extends PackedTensor permits Q4_KPackedTensor, Q5_KPackedTensor {
    /** Sub-blocks per super-block. */
    static final int SUB = 8;
    private static final VarHandle BYTES_AS_FLOATS = MethodHandles.byteArrayViewVarHandle(float[].class,
            ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfFloat LE_FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED
            .withOrder(ByteOrder.LITTLE_ENDIAN);
    /** Float lane i of the low / high half of a group's blocks takes d (or −dmin) of its block's super-block. */
    static final VectorShuffle<Float> D_LOW = VectorShuffle.fromOp(F, i -> i / SUB);
    static final VectorShuffle<Float> D_HIGH = VectorShuffle.fromOp(F, i -> (L + i) / SUB);
    static final VectorShuffle<Float> M_LOW = VectorShuffle.fromOp(F, i -> LANES / SUB + i / SUB);
    static final VectorShuffle<Float> M_HIGH = VectorShuffle.fromOp(F, i -> LANES / SUB + (L + i) / SUB);

    /** Bytes of a source super-block. */
    private final int sourceBytes;

    KPackedTensor(MemorySegment data, int rows, int cols, int blockBytes, int headerBytes, int sourceBytes) {
        super(data, rows, cols, blockBytes, headerBytes, 0x80, rowBytes(cols, blockBytes, sourceBytes));
        this.sourceBytes = sourceBytes;
    }

    /** Bytes of a packed row: whole groups of {@code blockBytes} per block, then the tail super-blocks. */
    static long rowBytes(int cols, int blockBytes, int sourceBytes) {
        int packed = groups(cols) * LANES;
        return (long) packed * blockBytes + (long) (cols / QK - packed) / SUB * sourceBytes;
    }

    /** What a format adds to a packed super-block beyond its header. */
    interface SuperBlockBody {
        /**
         * Packs super-block {@code sb} of a row, at {@code source[block…]}: its blocks' step bytes (value j and
         * j + 16 of a block in byte j) into {@code steps}, blocks of {@code blockBytes} with those bytes after the
         * header (what {@link #transposeSteps} reads), and anything else of its own into {@code out}, the packed row.
         */
        void pack(MemorySegment source, int block, int sb, byte[] steps, byte[] out);
    }

    /**
     * Packs rows [from, to) of {@code source} (super-blocks of {@code sourceBytes}) into {@code dst}: per packed
     * super-block its header and what {@code body} adds, then the {@code stepBytes} step bytes of each block
     * transposed into their groups (none for a body that writes its values itself), then the tail super-blocks as
     * they are.
     */
    static void pack(WeightTensor source, MemorySegment dst, int from, int to, int blockBytes, int headerBytes,
                     int stepBytes, int sourceBytes, SuperBlockBody body) {
        int cols = source.cols();
        int superBlocks = cols / (QK * SUB);
        int groups = groups(cols);
        int packedSuperBlocks = groups * LANES / SUB;
        byte[] row = new byte[superBlocks * sourceBytes];
        MemorySegment heap = MemorySegment.ofArray(row);
        byte[] steps = new byte[groups * LANES * blockBytes];
        byte[] out = new byte[(int) rowBytes(cols, blockBytes, sourceBytes)];
        long[] eight = new long[8];
        for (int r = from; r < to; r++) {
            MemorySegment.copy(source.data(), ValueLayout.JAVA_BYTE, (long) r * row.length, row, 0, row.length);
            for (int sb = 0; sb < packedSuperBlocks; sb++) {
                packHeader(heap, sb * sourceBytes, sb, blockBytes, out);
                body.pack(heap, sb * sourceBytes, sb, steps, out);
            }
            transposeSteps(steps, groups, blockBytes, stepBytes, 0x80, out, eight);
            System.arraycopy(row, packedSuperBlocks * sourceBytes, out, groups * LANES * blockBytes,
                    (superBlocks - packedSuperBlocks) * sourceBytes);
            MemorySegment.copy(out, 0, dst, ValueLayout.JAVA_BYTE, (long) r * out.length, out.length);
        }
    }

    /**
     * Writes the header numbers of the source super-block at {@code source[block…]}, super-block {@code sb} of its
     * row, into {@code out}, a packed row of blocks of {@code blockBytes}.
     */
    private static void packHeader(MemorySegment source, int block, int sb, int blockBytes, byte[] out) {
        int first = sb * SUB;
        int group = first / LANES * LANES * blockBytes;
        int k = first % LANES;
        BYTES_AS_FLOATS.set(out, group + 4 * (k / SUB), Simd.f16(source, block));
        BYTES_AS_FLOATS.set(out, group + LANES / 2 + 4 * (k / SUB), -Simd.f16(source, block + 2));
        for (int s = 0; s < SUB; s++) {
            out[group + LANES + k + s] = (byte) Q4_KTensor.scale(source, block + 4, s);
            out[group + 2 * LANES + k + s] = (byte) Q4_KTensor.min(source, block + 4, s);
        }
    }

    /** Byte offset of the header of group g of a row (a layout that keeps rows together has its own). */
    long header(int row, int g) {
        return group(row, g);
    }

    /** Byte offset of the tail super-block that holds tail block b of a row. */
    long tailSuperBlock(int row, int b) {
        int packed = groups(cols) * LANES;
        return rowOffset(row) + packed * (long) blockBytes + (long) (b - packed) / SUB * sourceBytes;
    }

    /** d·scale of block b of a row, for the scalar paths. */
    final float scale(int row, int b) {
        if (inTail(b)) {
            long block = tailSuperBlock(row, b);
            return Simd.f16(data, block) * Q4_KTensor.scale(data, block + 4, b % SUB);
        }
        long group = header(row, b / LANES);
        int k = b % LANES;
        return data.get(LE_FLOAT, group + 4L * (k / SUB)) * data.get(ValueLayout.JAVA_BYTE, group + LANES + k);
    }

    /** −dmin·min of block b of a row, for the scalar paths. */
    final float minimum(int row, int b) {
        if (inTail(b)) {
            long block = tailSuperBlock(row, b);
            return -Simd.f16(data, block + 2) * Q4_KTensor.min(data, block + 4, b % SUB);
        }
        long group = header(row, b / LANES);
        int k = b % LANES;
        return data.get(LE_FLOAT, group + LANES / 2 + 4L * (k / SUB))
                * data.get(ValueLayout.JAVA_BYTE, group + 2L * LANES + k);
    }
}
