package dev.nemotron4j.kernels;

import dev.nemotron4j.tensor.ColumnBlocks;
import dev.nemotron4j.tensor.IntegerRows;
import dev.nemotron4j.tensor.PackedTensor;
import dev.nemotron4j.tensor.Q8Activations;
import dev.nemotron4j.tensor.WeightTensor;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorSpecies;

import java.util.Arrays;

import static jdk.incubator.vector.VectorOperators.ADD;
import static jdk.incubator.vector.VectorOperators.I2F;
import static jdk.incubator.vector.VectorOperators.LSHL;

/**
 * y = W·x for a prompt, in 16-bit integers, for 4-bit weights with an {@link IntegerRows integer form} (Q4_0, Q4_K).
 * The vectors are quantized to 8-bit blocks of 32 (as ggml's Q8_0, so as the decode path and llama.cpp do) and
 * transposed into blocks of {@link #TOKENS}, one per 16-bit lane. Each thread decodes {@link #UNIT_ROWS} rows into
 * integers once per call, and the micro-kernel takes {@link #ROWS} of them over a chunk of columns: per column, two
 * loads of x and four broadcast weights feed eight 16-bit multiplies and eight adds, and after each block of 32
 * columns the ROWS × TOKENS sums are widened and added, scaled, to float sums that stay in registers. A 16-bit
 * multiply or add takes 32 lanes where a float multiply-add takes 16, and here both issue one per cycle.
 *
 * <p>A block's 32 products (at most 8·127 each) stay exact in 16 bits; then the sums are widened: the even lanes
 * read as ints shifted up 16 bits, the odd lanes masked, both exact as floats, with the 2⁻¹⁶ in the activation
 * scales. The float sums take weight scale × activation scale per block, plus offset × activation sum where the
 * format has offsets.
 */
public final class IntGemm {
    private static final VectorSpecies<Short> S = ShortVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Integer> I = IntVector.SPECIES_PREFERRED;
    private static final int LS = S.length();
    private static final int LF = F.length();
    private static final int QK = Q8Activations.QK;
    /** Blocks per group in the decoded rows: value m of the group's blocks side by side. */
    private static final int LANES = PackedTensor.LANES;
    /** Rows of W per micro-kernel call. */
    static final int ROWS = 4;
    /**
     * Rows a thread decodes at a time, whole quads of the packed layouts. The micro-kernel takes them ROWS at a time
     * over the same chunk of columns, so the chunk of x, read once from memory, is read from L2 for the others; and
     * each chunk of columns for all the blocks of tokens before the next, so that the chunk of the decoded rows stays
     * in L2 while x streams past (Minitron-8B Q4_0 pp512, four alternating pairs: 16.2 / 18.0 / 16.7 / 17.4 tok/s
     * against 13.7 / 17.0 / 16.1 / 16.3 with the blocks of tokens outside the chunks).
     */
    static final int UNIT_ROWS = 16;
    /**
     * Blocks of 32 columns per micro-kernel call: its 16 float sums are loaded and stored once per call. The chunk of
     * x (256 KB for a block of tokens) is read from L2 by the unit's four tiles. 4B Q4_0 pp512, three pairs each:
     * 64 blocks 43.4 / 42.5 / 42.0 tok/s against 41.2 / 41.5 / 40.9 with 32 blocks; 32 blocks 47.7 / 44.9 / 41.8
     * against 36.6 / 42.2 / 40.7 with 8; whole rows no faster than 64 blocks.
     */
    private static final int CHUNK_BLOCKS = 64;
    /**
     * Blocks of 32 columns per task of the quantization (64 KB of xt for a block of tokens): a prompt of one block of
     * tokens still splits over the threads.
     */
    private static final int QUANTIZE_BLOCKS = 16;
    /** Vectors of 16-bit lanes per block of tokens. */
    private static final int VECTORS = 2;
    /** Tokens of one vector of 16-bit lanes: a block's last vector is computed whole however many it holds. */
    static final int LANE_TOKENS = LS;
    /** Tokens (activation vectors) per block: one per 16-bit lane of VECTORS vectors. */
    static final int TOKENS = VECTORS * LS;
    private static final int EVEN_MASK = 0xFFFF0000;

    private static final ThreadLocal<Job> JOB = ThreadLocal.withInitial(Job::new);
    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    private IntGemm() {
    }

    /**
     * Whether {@code w} has an integer form this product can take on this machine's vectors (column blocks only
     * where their blocks have it).
     */
    public static boolean supports(WeightTensor w) {
        return LS >= 16 && 2 * LF == LS && w instanceof IntegerRows
                && !(w instanceof ColumnBlocks blocks && !blocks.integerRows());
    }

    /** out[t·rows + r] = W[r]·x_t for every row r of W and the {@code n} vectors x_t = x[t·cols …]. */
    public static void matmul(WeightTensor w, float[] x, int n, float[] out) {
        quantize(x, n, w.cols());
        multiply(w, out);
    }

    /**
     * Quantizes and transposes the {@code n} vectors x_t = x[t·cols …] for the products {@link #multiply} then
     * computes on this thread, so that matrices of one input share it.
     */
    static void quantize(float[] x, int n, int cols) {
        Job job = JOB.get();
        int blocks = (n + TOKENS - 1) / TOKENS;
        job.ensure(blocks, cols);
        job.x = x;
        job.n = n;
        job.cols = cols;
        job.transposing = true;
        try {
            Parallel.forRange(blocks * job.quantizeChunks(), 1, job);
        } finally {
            job.transposing = false;
            job.x = null;
        }
    }

    /** out[t·rows + r] = W[r]·x_t for the vectors this thread last {@link #quantize quantized}. */
    static void multiply(WeightTensor w, float[] out) {
        Job job = JOB.get();
        if (w.cols() != job.cols) {
            throw new IllegalArgumentException("matrix of width " + w.cols() + " for vectors of " + job.cols);
        }
        job.layout(w);
        job.w = w;
        job.out = out;
        try {
            Parallel.forRange((w.rows() + UNIT_ROWS - 1) / UNIT_ROWS, 1, job);
        } finally {
            job.w = null;
            job.out = null;
        }
    }

    /** Position of value 0 of block b in a decoded row as the micro-kernel reads it; value m follows at m · LANES. */
    static int rowPosition(int b) {
        return b / LANES * QK * LANES + b % LANES;
    }

    /** Width of a decoded row: whole groups of LANES blocks. */
    static int paddedWidth(int cols) {
        int group = QK * LANES;
        return (cols + group - 1) / group * group;
    }

    /** Lane of token i of a block in the float sums and scales: each vector's even lanes, then its odd ones. */
    static int floatLane(int i) {
        int v = i / LS;
        int l = i % LS;
        return v * LS + (l % 2) * LF + l / 2;
    }

    private static final class Job implements Parallel.RangeBody {
        /** xt[(b·cols + k)·TOKENS + i] = q of column k of vector b·TOKENS + i. */
        short[] xt = new short[0];
        /** scales[(b·blocks + j)·TOKENS + floatLane(i)] = d·2⁻¹⁶ of activation block j of that vector. */
        float[] scales = new float[0];
        /** sums[…] with the same index = d·Σ q of that block, for the offsets. */
        float[] sums = new float[0];
        /**
         * Where the micro-kernel reads each stored position p of a decoded row: kernelPosition[p] for p from
         * firstMoved on; the positions before it are already where it reads them.
         */
        int[] kernelPosition = new int[0];
        int firstMoved;
        WeightTensor w;
        float[] x;
        float[] out;
        int n;
        /** Width of the quantized vectors. */
        int cols;
        boolean transposing;

        void ensure(int blocks, int cols) {
            int size = Math.multiplyExact(blocks * TOKENS, cols);
            if (xt.length < size) {
                xt = new short[size];
            }
            int scaleSize = blocks * (cols / QK) * TOKENS;
            if (scales.length < scaleSize) {
                scales = new float[scaleSize];
                sums = new float[scaleSize];
            }
            if (kernelPosition.length < cols) {
                kernelPosition = new int[cols];
            }
        }

        /**
         * The micro-kernel reads value m of block b of a decoded row at {@link #rowPosition}(b) + m · LANES, a
         * constant stride, so that C2 removes the range checks from its loop (a position looked up per column ran
         * 3.5 times slower without the loop safepoints that G1 adds). The packed layouts store their groups of LANES
         * blocks so; their tail blocks, in column order, are moved into one more, partial, group.
         */
        void layout(WeightTensor w) {
            int cols = w.cols();
            int[] order = w.storedOrder();
            firstMoved = cols;
            for (int p = cols - 1; p >= 0; p--) {
                int c = order == null ? p : order[p];
                kernelPosition[p] = rowPosition(c / QK) + (c % QK) * LANES;
                if (kernelPosition[p] != p) {
                    firstMoved = p;
                }
            }
            for (int p = firstMoved; p < cols; p++) {
                if (kernelPosition[p] < firstMoved) {
                    throw new IllegalStateException(w.type() + ": stored position " + p + " is out of order");
                }
            }
        }

        @Override
        public void run(int from, int to) {
            if (transposing) {
                int chunks = quantizeChunks();
                for (int task = from; task < to; task++) {
                    int j0 = task % chunks * QUANTIZE_BLOCKS;
                    quantize(task / chunks, j0, Math.min(j0 + QUANTIZE_BLOCKS, cols / QK));
                }
                return;
            }
            IntegerRows integers = (IntegerRows) w;
            Scratch s = SCRATCH.get();
            int cols = w.cols();
            int blocksPerRow = cols / QK;
            int stride = paddedWidth(cols);
            int blocks = (n + TOKENS - 1) / TOKENS;
            s.ensure(stride, blocksPerRow, blocks);
            for (int unit = from; unit < to; unit++) {
                int r0 = unit * UNIT_ROWS;
                int count = Math.min(UNIT_ROWS, w.rows() - r0);
                integers.decodeRowsInt(r0, count, s.q, 0, stride, s.wScales, s.wOffsets, 0, blocksPerRow);
                float[] wOffsets = integers.intOffsets() ? s.wOffsets : null;
                for (int i = 0; i < count; i++) {
                    moveTail(s, i * stride, cols);
                }
                int tiles = (count + ROWS - 1) / ROWS;
                Arrays.fill(s.wScales, count * blocksPerRow, tiles * ROWS * blocksPerRow, 0f);
                Arrays.fill(s.wOffsets, count * blocksPerRow, tiles * ROWS * blocksPerRow, 0f);
                int sumsPerBlock = UNIT_ROWS * TOKENS;
                Arrays.fill(s.c, 0, blocks * sumsPerBlock, 0f);
                for (int j0 = 0; j0 < blocksPerRow; j0 += CHUNK_BLOCKS) {
                    int j1 = Math.min(j0 + CHUNK_BLOCKS, blocksPerRow);
                    for (int b = 0; b < blocks; b++) {
                        int xBase = b * cols * TOKENS;
                        int scaleBase = b * blocksPerRow * TOKENS;
                        boolean oneVector = n - b * TOKENS <= LS;
                        for (int t = 0; t < tiles; t++) {
                            int row = t * ROWS;
                            int cBase = b * sumsPerBlock + row * TOKENS;
                            if (oneVector) {
                                tileOne(s.q, row * stride, stride, xt, xBase, scales, sums, scaleBase, s.wScales,
                                        wOffsets, row * blocksPerRow, blocksPerRow, j0, j1, s.c, cBase);
                            } else {
                                tile(s.q, row * stride, stride, xt, xBase, scales, sums, scaleBase, s.wScales,
                                        wOffsets, row * blocksPerRow, blocksPerRow, j0, j1, s.c, cBase);
                            }
                        }
                    }
                }
                for (int b = 0; b < blocks; b++) {
                    store(s.c, b * sumsPerBlock, count, b, r0);
                }
            }
        }

        /** Moves the values of a decoded row at stored positions from firstMoved on to where the kernel reads them. */
        private void moveTail(Scratch s, int rowOffset, int cols) {
            int moved = cols - firstMoved;
            if (moved == 0) {
                return;
            }
            System.arraycopy(s.q, rowOffset + firstMoved, s.tail, 0, moved);
            for (int p = firstMoved; p < cols; p++) {
                s.q[rowOffset + kernelPosition[p]] = s.tail[p - firstMoved];
            }
        }

        /** Tasks of the quantization per block of tokens: chunks of {@link #QUANTIZE_BLOCKS} blocks. */
        int quantizeChunks() {
            return (cols / QK + QUANTIZE_BLOCKS - 1) / QUANTIZE_BLOCKS;
        }

        /**
         * Quantizes and transposes activation blocks [j0, j1) of token block b; lanes past the n-th vector are zero.
         * Vector by vector over the chunk, so that the activations are read in runs of its length and the chunk of
         * xt being written stays in L2: 512 vectors of 9216, one thread, 7.5 ms against 15 block by block over all
         * the vectors in turn (which read 64 rows of x 128 bytes at a time).
         */
        private void quantize(int b, int j0, int j1) {
            int blocks = cols / QK;
            int t0 = b * TOKENS;
            int count = Math.min(TOKENS, n - t0);
            int[] block = SCRATCH.get().block;
            for (int i = 0; i < TOKENS; i++) {
                int lane = floatLane(i);
                for (int j = j0; j < j1; j++) {
                    int xtBlock = (b * cols + j * QK) * TOKENS + i;
                    int scaleAt = (b * blocks + j) * TOKENS + lane;
                    if (i >= count) {
                        for (int k = 0; k < QK; k++) {
                            xt[xtBlock + k * TOKENS] = 0;
                        }
                        scales[scaleAt] = 0f;
                        sums[scaleAt] = 0f;
                        continue;
                    }
                    int src = (t0 + i) * cols + j * QK;
                    float d = Q8Activations.blockScale(x, src);
                    Q8Activations.roundBlock(x, src, d != 0f ? 1f / d : 0f, block);
                    IntVector sum = IntVector.zero(I);
                    for (int k = 0; k < QK; k += LF) {
                        sum = sum.add(IntVector.fromArray(I, block, k));
                    }
                    for (int k = 0; k < QK; k++) {
                        xt[xtBlock + k * TOKENS] = (short) block[k];
                    }
                    scales[scaleAt] = d * 0x1p-16f;
                    sums[scaleAt] = d * sum.reduceLanes(ADD);
                }
            }
        }

        /** Copies the sums of the real vectors of block b to out, vector by vector (each a run of out). */
        private void store(float[] c, int cBase, int count, int b, int r0) {
            int rowsTotal = w.rows();
            int t0 = b * TOKENS;
            int vectors = Math.min(TOKENS, n - t0);
            for (int t = 0; t < vectors; t++) {
                int lane = floatLane(t);
                int at = (t0 + t) * rowsTotal + r0;
                for (int i = 0; i < count; i++) {
                    out[at + i] = c[cBase + i * TOKENS + lane];
                }
            }
        }
    }

    /**
     * Adds to c[cBase + r·TOKENS + floatLane(i)] row r of the ROWS rows of q at qBase (rows {@code stride} apart,
     * value m of block j at {@link #rowPosition}(j) + m · LANES) times vector i of the token block at xBase, over
     * blocks j0 … j1 − 1. Per column: two loads of x, four broadcast weights, eight 16-bit multiplies and adds.
     * After each block the sums are widened (even lanes shifted up, odd lanes masked) and added, times weight scale
     * × activation scale, to float sums that stay in registers for the whole call; where the format has offsets
     * ({@code wOffsets} not null), so is each row's offset × the block's activation sums (Q4_K 4B, 512 tokens: added
     * in a pass of their own, they took 8 % of the prompt's samples).
     */
    static void tile(short[] q, int qBase, int stride, short[] xt, int xBase, float[] scales, float[] sums,
                     int scaleBase, float[] wScales, float[] wOffsets, int wBase, int blocksPerRow, int j0, int j1,
                     float[] c, int cBase) {
        int q1 = qBase + stride;
        int q2 = q1 + stride;
        int q3 = q2 + stride;
        int o0 = cBase;
        int o1 = o0 + TOKENS;
        int o2 = o1 + TOKENS;
        int o3 = o2 + TOKENS;
        FloatVector c00 = FloatVector.fromArray(F, c, o0);
        FloatVector c01 = FloatVector.fromArray(F, c, o0 + LF);
        FloatVector c02 = FloatVector.fromArray(F, c, o0 + LS);
        FloatVector c03 = FloatVector.fromArray(F, c, o0 + LS + LF);
        FloatVector c10 = FloatVector.fromArray(F, c, o1);
        FloatVector c11 = FloatVector.fromArray(F, c, o1 + LF);
        FloatVector c12 = FloatVector.fromArray(F, c, o1 + LS);
        FloatVector c13 = FloatVector.fromArray(F, c, o1 + LS + LF);
        FloatVector c20 = FloatVector.fromArray(F, c, o2);
        FloatVector c21 = FloatVector.fromArray(F, c, o2 + LF);
        FloatVector c22 = FloatVector.fromArray(F, c, o2 + LS);
        FloatVector c23 = FloatVector.fromArray(F, c, o2 + LS + LF);
        FloatVector c30 = FloatVector.fromArray(F, c, o3);
        FloatVector c31 = FloatVector.fromArray(F, c, o3 + LF);
        FloatVector c32 = FloatVector.fromArray(F, c, o3 + LS);
        FloatVector c33 = FloatVector.fromArray(F, c, o3 + LS + LF);
        for (int j = j0; j < j1; j++) {
            ShortVector a00 = ShortVector.zero(S), a01 = a00, a10 = a00, a11 = a00, a20 = a00, a21 = a00, a30 = a00,
                    a31 = a00;
            int xj = xBase + j * QK * TOKENS;
            int pj = rowPosition(j);
            for (int m = 0; m < QK; m++) {
                int xk = xj + m * TOKENS;
                ShortVector x0 = ShortVector.fromArray(S, xt, xk);
                ShortVector x1 = ShortVector.fromArray(S, xt, xk + LS);
                int p = pj + m * LANES;
                ShortVector w0 = ShortVector.broadcast(S, q[qBase + p]);
                a00 = a00.add(w0.mul(x0));
                a01 = a01.add(w0.mul(x1));
                ShortVector w1 = ShortVector.broadcast(S, q[q1 + p]);
                a10 = a10.add(w1.mul(x0));
                a11 = a11.add(w1.mul(x1));
                ShortVector w2 = ShortVector.broadcast(S, q[q2 + p]);
                a20 = a20.add(w2.mul(x0));
                a21 = a21.add(w2.mul(x1));
                ShortVector w3 = ShortVector.broadcast(S, q[q3 + p]);
                a30 = a30.add(w3.mul(x0));
                a31 = a31.add(w3.mul(x1));
            }
            int at = scaleBase + j * TOKENS;
            FloatVector even0 = FloatVector.fromArray(F, scales, at);
            FloatVector odd0 = FloatVector.fromArray(F, scales, at + LF);
            FloatVector even1 = FloatVector.fromArray(F, scales, at + LS);
            FloatVector odd1 = FloatVector.fromArray(F, scales, at + LS + LF);
            float s0 = wScales[wBase + j];
            float s1 = wScales[wBase + blocksPerRow + j];
            float s2 = wScales[wBase + 2 * blocksPerRow + j];
            float s3 = wScales[wBase + 3 * blocksPerRow + j];
            IntVector pairs = a00.reinterpretAsInts();
            c00 = even0.mul(s0).fma((FloatVector) pairs.lanewise(LSHL, 16).convertShape(I2F, F, 0), c00);
            c01 = odd0.mul(s0).fma((FloatVector) pairs.and(EVEN_MASK).convertShape(I2F, F, 0), c01);
            pairs = a01.reinterpretAsInts();
            c02 = even1.mul(s0).fma((FloatVector) pairs.lanewise(LSHL, 16).convertShape(I2F, F, 0), c02);
            c03 = odd1.mul(s0).fma((FloatVector) pairs.and(EVEN_MASK).convertShape(I2F, F, 0), c03);
            pairs = a10.reinterpretAsInts();
            c10 = even0.mul(s1).fma((FloatVector) pairs.lanewise(LSHL, 16).convertShape(I2F, F, 0), c10);
            c11 = odd0.mul(s1).fma((FloatVector) pairs.and(EVEN_MASK).convertShape(I2F, F, 0), c11);
            pairs = a11.reinterpretAsInts();
            c12 = even1.mul(s1).fma((FloatVector) pairs.lanewise(LSHL, 16).convertShape(I2F, F, 0), c12);
            c13 = odd1.mul(s1).fma((FloatVector) pairs.and(EVEN_MASK).convertShape(I2F, F, 0), c13);
            pairs = a20.reinterpretAsInts();
            c20 = even0.mul(s2).fma((FloatVector) pairs.lanewise(LSHL, 16).convertShape(I2F, F, 0), c20);
            c21 = odd0.mul(s2).fma((FloatVector) pairs.and(EVEN_MASK).convertShape(I2F, F, 0), c21);
            pairs = a21.reinterpretAsInts();
            c22 = even1.mul(s2).fma((FloatVector) pairs.lanewise(LSHL, 16).convertShape(I2F, F, 0), c22);
            c23 = odd1.mul(s2).fma((FloatVector) pairs.and(EVEN_MASK).convertShape(I2F, F, 0), c23);
            pairs = a30.reinterpretAsInts();
            c30 = even0.mul(s3).fma((FloatVector) pairs.lanewise(LSHL, 16).convertShape(I2F, F, 0), c30);
            c31 = odd0.mul(s3).fma((FloatVector) pairs.and(EVEN_MASK).convertShape(I2F, F, 0), c31);
            pairs = a31.reinterpretAsInts();
            c32 = even1.mul(s3).fma((FloatVector) pairs.lanewise(LSHL, 16).convertShape(I2F, F, 0), c32);
            c33 = odd1.mul(s3).fma((FloatVector) pairs.and(EVEN_MASK).convertShape(I2F, F, 0), c33);
            if (wOffsets != null) {
                FloatVector sumEven0 = FloatVector.fromArray(F, sums, at);
                FloatVector sumOdd0 = FloatVector.fromArray(F, sums, at + LF);
                FloatVector sumEven1 = FloatVector.fromArray(F, sums, at + LS);
                FloatVector sumOdd1 = FloatVector.fromArray(F, sums, at + LS + LF);
                FloatVector m = FloatVector.broadcast(F, wOffsets[wBase + j]);
                c00 = sumEven0.fma(m, c00);
                c01 = sumOdd0.fma(m, c01);
                c02 = sumEven1.fma(m, c02);
                c03 = sumOdd1.fma(m, c03);
                m = FloatVector.broadcast(F, wOffsets[wBase + blocksPerRow + j]);
                c10 = sumEven0.fma(m, c10);
                c11 = sumOdd0.fma(m, c11);
                c12 = sumEven1.fma(m, c12);
                c13 = sumOdd1.fma(m, c13);
                m = FloatVector.broadcast(F, wOffsets[wBase + 2 * blocksPerRow + j]);
                c20 = sumEven0.fma(m, c20);
                c21 = sumOdd0.fma(m, c21);
                c22 = sumEven1.fma(m, c22);
                c23 = sumOdd1.fma(m, c23);
                m = FloatVector.broadcast(F, wOffsets[wBase + 3 * blocksPerRow + j]);
                c30 = sumEven0.fma(m, c30);
                c31 = sumOdd0.fma(m, c31);
                c32 = sumEven1.fma(m, c32);
                c33 = sumOdd1.fma(m, c33);
            }
        }
        c00.intoArray(c, o0);
        c01.intoArray(c, o0 + LF);
        c02.intoArray(c, o0 + LS);
        c03.intoArray(c, o0 + LS + LF);
        c10.intoArray(c, o1);
        c11.intoArray(c, o1 + LF);
        c12.intoArray(c, o1 + LS);
        c13.intoArray(c, o1 + LS + LF);
        c20.intoArray(c, o2);
        c21.intoArray(c, o2 + LF);
        c22.intoArray(c, o2 + LS);
        c23.intoArray(c, o2 + LS + LF);
        c30.intoArray(c, o3);
        c31.intoArray(c, o3 + LF);
        c32.intoArray(c, o3 + LS);
        c33.intoArray(c, o3 + LS + LF);
    }

    /** {@link #tile} for a token block of at most one vector of lanes (the second vector's sums are left alone). */
    static void tileOne(short[] q, int qBase, int stride, short[] xt, int xBase, float[] scales, float[] sums,
                        int scaleBase, float[] wScales, float[] wOffsets, int wBase, int blocksPerRow, int j0, int j1,
                        float[] c, int cBase) {
        int q1 = qBase + stride;
        int q2 = q1 + stride;
        int q3 = q2 + stride;
        int o0 = cBase;
        int o1 = o0 + TOKENS;
        int o2 = o1 + TOKENS;
        int o3 = o2 + TOKENS;
        FloatVector c00 = FloatVector.fromArray(F, c, o0);
        FloatVector c01 = FloatVector.fromArray(F, c, o0 + LF);
        FloatVector c10 = FloatVector.fromArray(F, c, o1);
        FloatVector c11 = FloatVector.fromArray(F, c, o1 + LF);
        FloatVector c20 = FloatVector.fromArray(F, c, o2);
        FloatVector c21 = FloatVector.fromArray(F, c, o2 + LF);
        FloatVector c30 = FloatVector.fromArray(F, c, o3);
        FloatVector c31 = FloatVector.fromArray(F, c, o3 + LF);
        for (int j = j0; j < j1; j++) {
            ShortVector a0 = ShortVector.zero(S), a1 = a0, a2 = a0, a3 = a0;
            int xj = xBase + j * QK * TOKENS;
            int pj = rowPosition(j);
            for (int m = 0; m < QK; m++) {
                ShortVector x0 = ShortVector.fromArray(S, xt, xj + m * TOKENS);
                int p = pj + m * LANES;
                a0 = a0.add(x0.mul(q[qBase + p]));
                a1 = a1.add(x0.mul(q[q1 + p]));
                a2 = a2.add(x0.mul(q[q2 + p]));
                a3 = a3.add(x0.mul(q[q3 + p]));
            }
            int at = scaleBase + j * TOKENS;
            FloatVector even0 = FloatVector.fromArray(F, scales, at);
            FloatVector odd0 = FloatVector.fromArray(F, scales, at + LF);
            float s0 = wScales[wBase + j];
            float s1 = wScales[wBase + blocksPerRow + j];
            float s2 = wScales[wBase + 2 * blocksPerRow + j];
            float s3 = wScales[wBase + 3 * blocksPerRow + j];
            IntVector pairs = a0.reinterpretAsInts();
            c00 = even0.mul(s0).fma((FloatVector) pairs.lanewise(LSHL, 16).convertShape(I2F, F, 0), c00);
            c01 = odd0.mul(s0).fma((FloatVector) pairs.and(EVEN_MASK).convertShape(I2F, F, 0), c01);
            pairs = a1.reinterpretAsInts();
            c10 = even0.mul(s1).fma((FloatVector) pairs.lanewise(LSHL, 16).convertShape(I2F, F, 0), c10);
            c11 = odd0.mul(s1).fma((FloatVector) pairs.and(EVEN_MASK).convertShape(I2F, F, 0), c11);
            pairs = a2.reinterpretAsInts();
            c20 = even0.mul(s2).fma((FloatVector) pairs.lanewise(LSHL, 16).convertShape(I2F, F, 0), c20);
            c21 = odd0.mul(s2).fma((FloatVector) pairs.and(EVEN_MASK).convertShape(I2F, F, 0), c21);
            pairs = a3.reinterpretAsInts();
            c30 = even0.mul(s3).fma((FloatVector) pairs.lanewise(LSHL, 16).convertShape(I2F, F, 0), c30);
            c31 = odd0.mul(s3).fma((FloatVector) pairs.and(EVEN_MASK).convertShape(I2F, F, 0), c31);
            if (wOffsets != null) {
                FloatVector sumEven0 = FloatVector.fromArray(F, sums, at);
                FloatVector sumOdd0 = FloatVector.fromArray(F, sums, at + LF);
                FloatVector m = FloatVector.broadcast(F, wOffsets[wBase + j]);
                c00 = sumEven0.fma(m, c00);
                c01 = sumOdd0.fma(m, c01);
                m = FloatVector.broadcast(F, wOffsets[wBase + blocksPerRow + j]);
                c10 = sumEven0.fma(m, c10);
                c11 = sumOdd0.fma(m, c11);
                m = FloatVector.broadcast(F, wOffsets[wBase + 2 * blocksPerRow + j]);
                c20 = sumEven0.fma(m, c20);
                c21 = sumOdd0.fma(m, c21);
                m = FloatVector.broadcast(F, wOffsets[wBase + 3 * blocksPerRow + j]);
                c30 = sumEven0.fma(m, c30);
                c31 = sumOdd0.fma(m, c31);
            }
        }
        c00.intoArray(c, o0);
        c01.intoArray(c, o0 + LF);
        c10.intoArray(c, o1);
        c11.intoArray(c, o1 + LF);
        c20.intoArray(c, o2);
        c21.intoArray(c, o2 + LF);
        c30.intoArray(c, o3);
        c31.intoArray(c, o3 + LF);
    }

    /** Shorts and floats reused by one thread across calls. */
    private static final class Scratch {
        short[] q = new short[0];
        /** A row's values on their way to the partial group. */
        short[] tail = new short[0];
        float[] wScales = new float[0];
        float[] wOffsets = new float[0];
        /** One activation block's integers, on their way into xt. */
        final int[] block = new int[QK];
        /** The float sums of the unit's rows, block of tokens after block of tokens. */
        float[] c = new float[0];

        void ensure(int cols, int blocksPerRow, int tokenBlocks) {
            if (c.length < tokenBlocks * UNIT_ROWS * TOKENS) {
                c = new float[tokenBlocks * UNIT_ROWS * TOKENS];
            }
            if (q.length < UNIT_ROWS * cols) {
                q = new short[UNIT_ROWS * cols];
                tail = new short[cols];
            }
            if (wScales.length < UNIT_ROWS * blocksPerRow) {
                wScales = new float[UNIT_ROWS * blocksPerRow];
                wOffsets = new float[UNIT_ROWS * blocksPerRow];
            }
        }
    }

    /**
     * Scalar reference: the same 8-bit activations (ggml's Q8_0 rounding) and integer rows, summed in doubles.
     */
    static void matmulScalar(WeightTensor w, float[] x, int n, float[] out) {
        IntegerRows rows = (IntegerRows) w;
        int cols = w.cols();
        short[] q = new short[cols];
        float[] scales = new float[cols / QK];
        float[] offsets = new float[cols / QK];
        int[] order = w.storedOrder();
        float[] d = new float[n * (cols / QK)];
        int[] xq = new int[n * cols];
        for (int t = 0; t < n; t++) {
            for (int j = 0; j < cols / QK; j++) {
                float scale = Q8Activations.blockScale(x, t * cols + j * QK);
                float id = scale != 0f ? 1f / scale : 0f;
                d[t * (cols / QK) + j] = scale;
                for (int k = j * QK; k < (j + 1) * QK; k++) {
                    xq[t * cols + k] = Q8Activations.round(x[t * cols + k] * id);
                }
            }
        }
        for (int r = 0; r < w.rows(); r++) {
            rows.decodeRowsInt(r, 1, q, 0, cols, scales, offsets, 0, cols / QK);
            for (int t = 0; t < n; t++) {
                double sum = 0;
                for (int p = 0; p < cols; p++) {
                    int c = order == null ? p : order[p];
                    int g = c / QK;
                    double weight = (double) scales[g] * q[p] + (rows.intOffsets() ? offsets[g] : 0);
                    sum += weight * d[t * (cols / QK) + c / QK] * xq[t * cols + c];
                }
                out[t * w.rows() + r] = (float) sum;
            }
        }
    }
}
