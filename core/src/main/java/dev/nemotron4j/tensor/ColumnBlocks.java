package dev.nemotron4j.tensor;

import java.lang.foreign.MemorySegment;

/**
 * A {@link PackedTensor packed} matrix wider than {@link #MAX_GROUPS} groups, kept as column blocks of at most that
 * many groups, each block a packed matrix of its own (all of its rows together), the blocks back to back; the tail
 * blocks of the row go with the last. A product takes the blocks in turn ({@code kernels.Matmul}).
 *
 * <p>Why: decoding streams a matrix from memory, and wide rows streamed slower. The same bytes, packed Q4_0, one
 * vector, matrices together far larger than the L3: 1364 × 12288 at 10.8 GB/s against 4096 × 4096 at 20.6 on one
 * thread, 18.9 against 29.6 on two; from cache the wide rows were as fast. The models' wide matrices are the MLP's
 * down projections (9216 and 11520 columns), over a quarter of the bytes a decoded token reads.
 *
 * <p>Blocks of a format with {@link IntegerRows} give the whole matrix that form, with the positions the one packed
 * matrix would have (a block starts at a whole group), so that a prompt's integer product takes all the columns at
 * once.
 */
public final class ColumnBlocks extends WeightTensor implements IntegerRows {
    /** Groups per block at most: 4096 columns with 512-bit vectors, the narrow rows of the measurement above. */
    static final int MAX_GROUPS = 4;

    private final GGMLType type;
    private final PackedTensor[] blocks;
    private final int[] starts;
    private final int[] storedOrder;

    private ColumnBlocks(GGMLType type, MemorySegment data, int rows, int cols, PackedTensor[] blocks, int[] starts) {
        this.type = type;
        this.blocks = blocks;
        this.starts = starts;
        this.storedOrder = storedOrder(blocks, starts, cols);
        super(data, rows, cols, 0);
    }

    /** The blocks' stored orders, each shifted to its block's columns. */
    private static int[] storedOrder(PackedTensor[] blocks, int[] starts, int cols) {
        int[] order = new int[cols];
        for (int c = 0; c < blocks.length; c++) {
            int[] block = blocks[c].storedOrder();
            for (int p = 0; p < blocks[c].cols(); p++) {
                order[starts[c] + p] = starts[c] + (block == null ? p : block[p]);
            }
        }
        return order;
    }

    /** Whether a packed rows × cols matrix of {@code type} is kept as column blocks. */
    public static boolean splits(GGMLType type, int cols) {
        return PackedTensor.packs(type) && PackedTensor.fits(cols) && PackedTensor.groups(cols) > MAX_GROUPS;
    }

    /** First column of each block: as many whole groups in each as can be, the last also takes the tail. */
    static int[] starts(int cols) {
        int groups = PackedTensor.groups(cols);
        int count = (groups + MAX_GROUPS - 1) / MAX_GROUPS;
        int perBlock = (groups + count - 1) / count;
        int[] starts = new int[count];
        for (int c = 0; c < count; c++) {
            starts[c] = c * perBlock * PackedTensor.QK * PackedTensor.LANES;
        }
        return starts;
    }

    private static int width(int[] starts, int c, int cols) {
        return (c + 1 < starts.length ? starts[c + 1] : cols) - starts[c];
    }

    /** Byte offset of each block, and after the last the total. */
    private static long[] offsets(GGMLType type, int rows, int cols, int[] starts) {
        long[] offsets = new long[starts.length + 1];
        for (int c = 0; c < starts.length; c++) {
            offsets[c + 1] = offsets[c] + PackedTensor.byteSize(type, rows, width(starts, c, cols));
        }
        return offsets;
    }

    /** Bytes of the blocks of a rows × cols matrix of {@code type}: as many as one packed matrix takes. */
    public static long byteSize(GGMLType type, int rows, int cols) {
        int[] starts = starts(cols);
        return offsets(type, rows, cols, starts)[starts.length];
    }

    /**
     * Packs rows [from, to) of {@code source} into the blocks in {@code dst}, as {@link PackedTensor#pack} does (and
     * with its conditions on from and to), each block's columns copied out of the source rows first.
     */
    public static boolean pack(WeightTensor source, MemorySegment dst, int from, int to) {
        GGMLType type = source.type();
        int rows = source.rows();
        int cols = source.cols();
        int[] starts = starts(cols);
        long[] offsets = offsets(type, rows, cols, starts);
        boolean usable = true;
        for (int c = 0; c < starts.length; c++) {
            int width = width(starts, c, cols);
            long blockRowBytes = type.byteSize(width);
            long skip = type.byteSize(starts[c]);
            MemorySegment columns = MemorySegment.ofArray(new byte[Math.toIntExact((to - from) * blockRowBytes)]);
            for (int r = from; r < to; r++) {
                MemorySegment.copy(source.data(), source.rowOffset(r) + skip, columns, (r - from) * blockRowBytes,
                        blockRowBytes);
            }
            WeightTensor block = WeightTensor.of(type, columns, to - from, width);
            MemorySegment blockRows = dst.asSlice(offsets[c] + PackedTensor.byteSize(type, from, width));
            usable &= PackedTensor.pack(block, blockRows, 0, to - from);
        }
        return usable;
    }

    /**
     * A view of a packed rows × cols matrix of {@code type}: column blocks where {@link #splits}, else the one
     * {@link PackedTensor}.
     */
    public static WeightTensor viewPacked(GGMLType type, MemorySegment data, int rows, int cols) {
        return splits(type, cols) ? view(type, data, rows, cols) : PackedTensor.view(type, data, rows, cols);
    }

    /** Whether {@code matrix} is in a packed layout: what {@link #viewPacked} returns. */
    public static boolean isPacked(WeightTensor matrix) {
        return matrix instanceof PackedTensor || matrix instanceof ColumnBlocks;
    }

    /** A view of bytes {@link #pack} wrote for a rows × cols matrix of {@code type}. */
    public static ColumnBlocks view(GGMLType type, MemorySegment data, int rows, int cols) {
        int[] starts = starts(cols);
        long[] offsets = offsets(type, rows, cols, starts);
        PackedTensor[] blocks = new PackedTensor[starts.length];
        for (int c = 0; c < starts.length; c++) {
            blocks[c] = PackedTensor.view(type, data.asSlice(offsets[c], offsets[c + 1] - offsets[c]), rows,
                    width(starts, c, cols));
        }
        return new ColumnBlocks(type, data, rows, cols, blocks, starts);
    }

    public int blockCount() {
        return blocks.length;
    }

    /** Block c: columns {@link #blockStart}(c) … + its cols. */
    public PackedTensor block(int c) {
        return blocks[c];
    }

    public int blockStart(int c) {
        return starts[c];
    }

    /** Whether the blocks have the {@link IntegerRows} form (Q4_0 and Q4_K); the methods of that form need it. */
    public boolean integerRows() {
        return blocks[0] instanceof IntegerRows;
    }

    @Override
    public boolean intOffsets() {
        return ((IntegerRows) blocks[0]).intOffsets();
    }

    @Override
    public void decodeRowsInt(int row, int count, short[] q, int qOffset, int qStride, float[] scales,
                              float[] offsets, int gOffset, int gStride) {
        for (int c = 0; c < blocks.length; c++) {
            ((IntegerRows) blocks[c]).decodeRowsInt(row, count, q, qOffset + starts[c], qStride, scales, offsets,
                    gOffset + starts[c] / PackedTensor.QK, gStride);
        }
    }

    @Override
    public int[] storedOrder() {
        return storedOrder;
    }

    @Override
    public void dequantizeRowStored(int row, float[] out, int outOffset) {
        for (int c = 0; c < blocks.length; c++) {
            blocks[c].dequantizeRowStored(row, out, outOffset + starts[c]);
        }
    }

    @Override
    public GGMLType type() {
        return type;
    }

    @Override
    public float dot(int row, float[] x, int xOffset) {
        float sum = 0f;
        for (int c = 0; c < blocks.length; c++) {
            sum += blocks[c].dot(row, x, xOffset + starts[c]);
        }
        return sum;
    }

    @Override
    public float dotScalar(int row, float[] x, int xOffset) {
        float sum = 0f;
        for (int c = 0; c < blocks.length; c++) {
            sum += blocks[c].dotScalar(row, x, xOffset + starts[c]);
        }
        return sum;
    }

    @Override
    public void dequantizeRow(int row, float[] out, int outOffset) {
        for (int c = 0; c < blocks.length; c++) {
            blocks[c].dequantizeRow(row, out, outOffset + starts[c]);
        }
    }
}
