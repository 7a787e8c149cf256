package dev.nemotron4j.kernels;

import dev.nemotron4j.tensor.ColumnBlocks;
import dev.nemotron4j.tensor.PackedTensor;
import dev.nemotron4j.tensor.Q8Activations;
import dev.nemotron4j.tensor.WeightTensor;

/** y = W·x for a batch of activation vectors. */
public final class Matmul {
    /** One reusable job per calling thread, so a matmul allocates nothing. */
    private static final ThreadLocal<Job> JOB = ThreadLocal.withInitial(Job::new);

    /**
     * From this many vectors on, {@link Gemm} (decode each row once, then a register-blocked product) beats one dot
     * product per row and vector (which reads a row from memory once and from L1 for the other vectors). 4B F16,
     * prompt ms/token alternating in one process: 8 vectors 119 with the dot products against 122 in Gemm.
     */
    static final int GEMM_MIN_VECTORS = 12;
    /**
     * The same crossover for a {@link PackedTensor} that {@link IntGemm} does not take (Q8_0, Q6_K, Q4_1, Q5_K), whose
     * integer dot products are faster: 4B Q8_0, prompt ms/token alternating in one process, 6 vectors 110 with the
     * dot products against 141 in Gemm, 9 vectors 118 against 103, 16 vectors 125 against 54.
     */
    static final int GEMM_MIN_VECTORS_PACKED = 9;
    /**
     * From this many vectors on, {@link IntGemm} takes the formats it can; below it they take the integer dot products
     * (never {@link Gemm}), four vectors at a time. 4B Q4_0, prompt ms/token alternating in one process: 24 tokens
     * 28.2 with the dot products against 36.0 in IntGemm; 32 tokens 27.6 against 24.9.
     */
    static final int INT_GEMM_MIN_VECTORS = 32;
    /**
     * Vectors past the last whole vector of lanes of {@link IntGemm} ({@link IntGemm#LANE_TOKENS}) take the integer
     * dot products when there are at most this many: IntGemm computes every lane of a vector, filled or not. 4B
     * Q4_0, ms/token: 40 tokens in IntGemm alone (64 lanes) 35.5, in the dot products 29.7.
     */
    static final int MAX_REST_VECTORS = IntGemm.LANE_TOKENS * 7 / 8;

    private Matmul() {
    }

    /**
     * For each of the {@code n} vectors x_t = x[t·cols …] computes out[t·rows + r] = W[r]·x_t. Rows of W are split
     * over threads; below {@link #GEMM_MIN_VECTORS} vectors each format's {@link WeightTensor#matmul} takes one dot
     * product per row and vector, and below {@link #GEMM_MIN_VECTORS_PACKED} a {@link PackedTensor} one integer dot
     * product on the vectors quantized to 8 bits (once, before the rows are split). From there on {@link Gemm}; the
     * formats {@link IntGemm} takes go from the integer dot products straight to it, at {@link #INT_GEMM_MIN_VECTORS},
     * except the vectors past its last whole vector of lanes when they are few ({@link #MAX_REST_VECTORS}).
     * {@link ColumnBlocks} are multiplied block by block, each block so.
     */
    public static void matmul(WeightTensor w, float[] x, int n, float[] out) {
        matmul(x, n, w, out, null, null, null, null);
    }

    /**
     * {@link #matmul(WeightTensor, float[], int, float[])} for two or three matrices of the same input (a layer's
     * query, key and value; gate and up), out_i = W_i·x, {@code w3} null for two. They share one quantization of x
     * (in {@link IntGemm} too); decoding, one parallel region over all their rows: alone, a 1024-row matrix
     * streamed at 80 % of the speed of a 9216-row one; shared, the query, key and value of the 8B shape (Q4_0) took
     * 5–13 % less time, of the 4B shape about 3 %.
     */
    public static void matmul(float[] x, int n, WeightTensor w1, float[] out1, WeightTensor w2, float[] out2,
                              WeightTensor w3, float[] out3) {
        int rest = n >= INT_GEMM_MIN_VECTORS ? n % IntGemm.LANE_TOKENS : 0;
        if (rest > 0 && rest <= MAX_REST_VECTORS && (IntGemm.supports(w1) || IntGemm.supports(w2)
                || IntGemm.supports(w3))) {
            matmulWithRest(x, n, rest, w1, out1, w2, out2, w3, out3);
            return;
        }
        w1 = byBlocks(w1, x, n, out1);
        w2 = byBlocks(w2, x, n, out2);
        w3 = byBlocks(w3, x, n, out3);
        Job job = JOB.get();
        job.x = x;
        job.n = n;
        try {
            job.take(w1, out1);
            job.take(w2, out2);
            job.take(w3, out3);
            if (job.count > 0) {
                if (job.packed) {
                    job.quantized.quantize(x, n, job.cols);
                }
                Parallel.forRange(job.end[job.count - 1], 16, job);
            }
        } finally {
            job.clear();
        }
    }

    /**
     * The matrices {@link IntGemm} takes multiply all but the last {@code rest} vectors there and those with the
     * dot products (copied out and back: a few hundred KB against the seconds of a prompt's products); the others
     * take all n.
     */
    private static void matmulWithRest(float[] x, int n, int rest, WeightTensor w1, float[] out1, WeightTensor w2,
                                       float[] out2, WeightTensor w3, float[] out3) {
        int whole = n - rest;
        matmul(x, whole, integer(w1), out1, integer(w2), out2, integer(w3), out3);
        matmul(x, n, other(w1), out1, other(w2), out2, other(w3), out3);
        RestScratch scratch = REST_SCRATCH.get();
        int cols = w1.cols();
        float[] restX = scratch.x(rest * cols);
        System.arraycopy(x, whole * cols, restX, 0, rest * cols);
        matmul(restX, rest, integer(w1), scratch.out(0, w1, rest), integer(w2), scratch.out(1, w2, rest),
                integer(w3), scratch.out(2, w3, rest));
        scratch.copyBack(0, w1, out1, whole, rest);
        scratch.copyBack(1, w2, out2, whole, rest);
        scratch.copyBack(2, w3, out3, whole, rest);
    }

    /** w if {@link IntGemm} takes it, else null (no matrix). */
    private static WeightTensor integer(WeightTensor w) {
        return IntGemm.supports(w) ? w : null;
    }

    /** w if {@link IntGemm} does not take it, else null. */
    private static WeightTensor other(WeightTensor w) {
        return IntGemm.supports(w) ? null : w;
    }

    private static final ThreadLocal<RestScratch> REST_SCRATCH = ThreadLocal.withInitial(RestScratch::new);

    /** Per calling thread: the last vectors of a prompt and their products, for {@link #matmulWithRest}. */
    private static final class RestScratch {
        private float[] x = new float[0];
        private final float[][] out = {new float[0], new float[0], new float[0]};

        float[] x(int size) {
            if (x.length < size) {
                x = new float[size];
            }
            return x;
        }

        /** Room for matrix i's products with the last vectors, if {@link IntGemm} takes it. */
        float[] out(int i, WeightTensor w, int rest) {
            int size = IntGemm.supports(w) ? rest * w.rows() : 0;
            if (out[i].length < size) {
                out[i] = new float[size];
            }
            return out[i];
        }

        void copyBack(int i, WeightTensor w, float[] result, int whole, int rest) {
            if (IntGemm.supports(w)) {
                System.arraycopy(out[i], 0, result, whole * w.rows(), rest * w.rows());
            }
        }
    }

    /**
     * Computes W·x block by block if W is {@link ColumnBlocks} (each block a product of its own, on its columns of x,
     * added up) and returns null; returns any other matrix untouched, and so blocks with the integer form for as many
     * vectors as {@link IntGemm} takes, which it multiplies whole.
     */
    private static WeightTensor byBlocks(WeightTensor w, float[] x, int n, float[] out) {
        if (!(w instanceof ColumnBlocks blocks) || n >= INT_GEMM_MIN_VECTORS && blocks.integerRows()) {
            return w;
        }
        BlockScratch scratch = BLOCK_SCRATCH.get();
        int rows = w.rows();
        int cols = w.cols();
        for (int c = 0; c < blocks.blockCount(); c++) {
            WeightTensor block = blocks.block(c);
            int width = block.cols();
            float[] columns = scratch.columns(n * width);
            for (int t = 0; t < n; t++) {
                System.arraycopy(x, t * cols + blocks.blockStart(c), columns, t * width, width);
            }
            if (c == 0) {
                matmul(block, columns, n, out);
                continue;
            }
            float[] sums = scratch.sums(n * rows);
            matmul(block, columns, n, sums);
            for (int i = 0; i < n * rows; i++) {
                out[i] += sums[i];
            }
        }
        return null;
    }

    /** Per calling thread: a block's columns of the vectors and its products, for {@link #byBlocks}. */
    private static final ThreadLocal<BlockScratch> BLOCK_SCRATCH = ThreadLocal.withInitial(BlockScratch::new);

    private static final class BlockScratch {
        private float[] columns = new float[0];
        private float[] sums = new float[0];

        float[] columns(int size) {
            if (columns.length < size) {
                columns = new float[size];
            }
            return columns;
        }

        float[] sums(int size) {
            if (sums.length < size) {
                sums = new float[size];
            }
            return sums;
        }
    }

    /** The matrices of one call, their rows laid end to end as one range for the threads to split. */
    private static final class Job implements Parallel.RangeBody {
        final WeightTensor[] w = new WeightTensor[3];
        final float[][] out = new float[3][];
        /** end[i] = rows of matrices 0 … i together: matrix i takes [end[i − 1], end[i]) of the range. */
        final int[] end = new int[3];
        int count;
        /** Width of the call's matrices, 0 before the first. */
        int cols;
        /** Whether a kept matrix takes the quantized vectors. */
        boolean packed;
        /** Whether {@link IntGemm} holds this call's vectors, quantized for an earlier matrix. */
        boolean intQuantized;
        float[] x;
        int n;
        final Q8Activations quantized = new Q8Activations();

        /**
         * Computes a product of as many vectors as {@link Gemm} or {@link IntGemm} takes right away; otherwise keeps
         * the matrix for the shared region.
         */
        void take(WeightTensor matrix, float[] result) {
            if (matrix == null) {
                return;
            }
            if (cols == 0) {
                cols = matrix.cols();
            } else if (matrix.cols() != cols) {
                throw new IllegalArgumentException("matrices of one input differ in width: " + cols + " and "
                        + matrix.cols());
            }
            boolean integer = IntGemm.supports(matrix);
            int minimum = integer ? INT_GEMM_MIN_VECTORS
                    : matrix instanceof PackedTensor ? GEMM_MIN_VECTORS_PACKED : GEMM_MIN_VECTORS;
            if (n >= minimum) {
                if (integer) {
                    if (!intQuantized) {
                        IntGemm.quantize(x, n, cols);
                        intQuantized = true;
                    }
                    IntGemm.multiply(matrix, result);
                } else {
                    Gemm.matmul(matrix, x, n, result);
                }
                return;
            }
            w[count] = matrix;
            out[count] = result;
            end[count] = (count > 0 ? end[count - 1] : 0) + matrix.rows();
            packed |= matrix instanceof PackedTensor;
            count++;
        }

        void clear() {
            for (int i = 0; i < count; i++) {
                w[i] = null;
                out[i] = null;
            }
            count = 0;
            cols = 0;
            packed = false;
            intQuantized = false;
            x = null;
        }

        @Override
        public void run(int from, int to) {
            for (int i = 0; i < count; i++) {
                int start = i > 0 ? end[i - 1] : 0;
                int a = Math.max(from, start) - start;
                int b = Math.min(to, end[i]) - start;
                if (a >= b) {
                    continue;
                }
                if (w[i] instanceof PackedTensor p) {
                    p.matmul(quantized, out[i], a, b);
                } else {
                    w[i].matmul(x, n, out[i], a, b);
                }
            }
        }
    }
}
