package dev.nemotron4j.kernels;

import dev.nemotron4j.tensor.WeightTensor;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * y = W·x for many vectors at once (a prompt), as a register-blocked matrix product in f32 that works the same for
 * every weight format. The vectors are transposed once into blocks of {@link #TOKENS} (one lane per vector), each
 * thread decodes {@link #ROWS} rows of W into floats once per call, and the micro-kernel keeps ROWS × TOKENS sums in
 * registers: per element of a row, two loads of x and ROWS broadcasts of weights feed 2·ROWS fused multiply-adds, so
 * it runs near the FMA peak and decoding costs once per row instead of once per tile of vectors.
 */
public final class Gemm {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final int L = F.length();
    /** Vectors per block: two float vectors of lanes. */
    static final int TOKENS = 2 * L;
    /** Rows of W per micro-kernel call. */
    static final int ROWS = 8;

    /** Per calling thread: the transposed vectors and the job, so a call allocates nothing once grown. */
    private static final ThreadLocal<Job> JOB = ThreadLocal.withInitial(Job::new);
    /** Per worker thread: decoded rows and the lanes of finished sums. */
    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    private Gemm() {
    }

    /** out[t·rows + r] = W[r]·x_t for every row r of W and the {@code n} vectors x_t = x[t·cols …]. */
    public static void matmul(WeightTensor w, float[] x, int n, float[] out) {
        Job job = JOB.get();
        int cols = w.cols();
        int blocks = (n + TOKENS - 1) / TOKENS;
        int size = Math.multiplyExact(blocks * TOKENS, cols);
        if (job.xt.length < size) {
            job.xt = new float[size];
        }
        job.w = w;
        job.x = x;
        job.n = n;
        job.out = out;
        job.transposing = true;
        Parallel.forRange(blocks, 1, job);
        job.transposing = false;
        Parallel.forRange((w.rows() + ROWS - 1) / ROWS, 1, job);
        job.w = null;
        job.x = null;
        job.out = null;
    }

    /**
     * Block b of the vectors, transposed: xt[(b·cols + k)·TOKENS + i] = x_{b·TOKENS+i}[order[k]] (order null: k), zero
     * past the n-th vector. The order is that of the weights' stored rows, {@link WeightTensor#storedOrder()}.
     */
    static void transpose(float[] x, int n, int cols, int[] order, int block, float[] xt) {
        int t0 = block * TOKENS;
        int count = Math.min(TOKENS, n - t0);
        int base = block * cols * TOKENS;
        for (int i = 0; i < count; i++) {
            int src = (t0 + i) * cols;
            if (order == null) {
                for (int k = 0; k < cols; k++) {
                    xt[base + k * TOKENS + i] = x[src + k];
                }
            } else {
                for (int k = 0; k < cols; k++) {
                    xt[base + k * TOKENS + i] = x[src + order[k]];
                }
            }
        }
        for (int i = count; i < TOKENS; i++) {
            for (int k = 0; k < cols; k++) {
                xt[base + k * TOKENS + i] = 0f;
            }
        }
    }

    private static final class Job implements Parallel.RangeBody {
        float[] xt = new float[0];
        WeightTensor w;
        float[] x;
        float[] out;
        int n;
        boolean transposing;

        @Override
        public void run(int from, int to) {
            if (transposing) {
                for (int b = from; b < to; b++) {
                    transpose(x, n, w.cols(), w.storedOrder(), b, xt);
                }
                return;
            }
            Scratch s = SCRATCH.get();
            int cols = w.cols();
            int rows = w.rows();
            if (s.w.length < ROWS * cols) {
                s.w = new float[ROWS * cols];
            }
            int blocks = (n + TOKENS - 1) / TOKENS;
            for (int rb = from; rb < to; rb++) {
                int r0 = rb * ROWS;
                int count = Math.min(ROWS, rows - r0);
                for (int i = 0; i < count; i++) {
                    w.dequantizeRowStored(r0 + i, s.w, i * cols);
                }
                for (int b = 0; b < blocks; b++) {
                    if (count == ROWS && n - b * TOKENS <= L) {
                        kernelOne(s.w, cols, xt, b, s.lanes);
                    } else if (count == ROWS) {
                        kernel(s.w, cols, xt, b, s.lanes);
                    } else {
                        for (int i = 0; i < count; i++) {
                            kernel1(s.w, i * cols, cols, xt, b, s.lanes, i);
                        }
                    }
                    store(s.lanes, count, b, rows, r0, out);
                }
            }
        }

        /**
         * Copies sums lanes[i·TOKENS + j] = W[r0+i]·x_{b·TOKENS+j} to out, leaving out the padding vectors; vector by
         * vector, so that each line of out is visited once.
         */
        private void store(float[] lanes, int count, int block, int rows, int r0, float[] out) {
            int t0 = block * TOKENS;
            int vectors = Math.min(TOKENS, n - t0);
            for (int j = 0; j < vectors; j++) {
                int at = (t0 + j) * rows + r0;
                for (int i = 0; i < count; i++) {
                    out[at + i] = lanes[i * TOKENS + j];
                }
            }
        }
    }

    /** Floats reused by one thread across calls. */
    private static final class Scratch {
        float[] w = new float[0];
        final float[] lanes = new float[ROWS * TOKENS];
    }

    /** lanes[i·TOKENS + j] = Σ_k w[i·cols + k] · xt block b [k][j] for the ROWS rows in w. */
    static void kernel(float[] w, int cols, float[] xt, int block, float[] lanes) {
        FloatVector a00 = FloatVector.zero(F), a01 = a00, a10 = a00, a11 = a00, a20 = a00, a21 = a00, a30 = a00,
                a31 = a00, a40 = a00, a41 = a00, a50 = a00, a51 = a00, a60 = a00, a61 = a00, a70 = a00, a71 = a00;
        int xk = block * cols * TOKENS;
        for (int k = 0; k < cols; k++, xk += TOKENS) {
            FloatVector x0 = FloatVector.fromArray(F, xt, xk);
            FloatVector x1 = FloatVector.fromArray(F, xt, xk + L);
            FloatVector w0 = FloatVector.broadcast(F, w[k]);
            a00 = w0.fma(x0, a00);
            a01 = w0.fma(x1, a01);
            FloatVector w1 = FloatVector.broadcast(F, w[cols + k]);
            a10 = w1.fma(x0, a10);
            a11 = w1.fma(x1, a11);
            FloatVector w2 = FloatVector.broadcast(F, w[2 * cols + k]);
            a20 = w2.fma(x0, a20);
            a21 = w2.fma(x1, a21);
            FloatVector w3 = FloatVector.broadcast(F, w[3 * cols + k]);
            a30 = w3.fma(x0, a30);
            a31 = w3.fma(x1, a31);
            FloatVector w4 = FloatVector.broadcast(F, w[4 * cols + k]);
            a40 = w4.fma(x0, a40);
            a41 = w4.fma(x1, a41);
            FloatVector w5 = FloatVector.broadcast(F, w[5 * cols + k]);
            a50 = w5.fma(x0, a50);
            a51 = w5.fma(x1, a51);
            FloatVector w6 = FloatVector.broadcast(F, w[6 * cols + k]);
            a60 = w6.fma(x0, a60);
            a61 = w6.fma(x1, a61);
            FloatVector w7 = FloatVector.broadcast(F, w[7 * cols + k]);
            a70 = w7.fma(x0, a70);
            a71 = w7.fma(x1, a71);
        }
        a00.intoArray(lanes, 0);
        a01.intoArray(lanes, L);
        a10.intoArray(lanes, TOKENS);
        a11.intoArray(lanes, TOKENS + L);
        a20.intoArray(lanes, 2 * TOKENS);
        a21.intoArray(lanes, 2 * TOKENS + L);
        a30.intoArray(lanes, 3 * TOKENS);
        a31.intoArray(lanes, 3 * TOKENS + L);
        a40.intoArray(lanes, 4 * TOKENS);
        a41.intoArray(lanes, 4 * TOKENS + L);
        a50.intoArray(lanes, 5 * TOKENS);
        a51.intoArray(lanes, 5 * TOKENS + L);
        a60.intoArray(lanes, 6 * TOKENS);
        a61.intoArray(lanes, 6 * TOKENS + L);
        a70.intoArray(lanes, 7 * TOKENS);
        a71.intoArray(lanes, 7 * TOKENS + L);
    }

    /**
     * {@link #kernel} for a block of at most one vector of lanes (a short prompt, or the last vectors of one): the
     * second vector's lanes, all padding, are left out, which halves the multiply-adds.
     */
    static void kernelOne(float[] w, int cols, float[] xt, int block, float[] lanes) {
        FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
        int xk = block * cols * TOKENS;
        for (int k = 0; k < cols; k++, xk += TOKENS) {
            FloatVector x0 = FloatVector.fromArray(F, xt, xk);
            a0 = FloatVector.broadcast(F, w[k]).fma(x0, a0);
            a1 = FloatVector.broadcast(F, w[cols + k]).fma(x0, a1);
            a2 = FloatVector.broadcast(F, w[2 * cols + k]).fma(x0, a2);
            a3 = FloatVector.broadcast(F, w[3 * cols + k]).fma(x0, a3);
            a4 = FloatVector.broadcast(F, w[4 * cols + k]).fma(x0, a4);
            a5 = FloatVector.broadcast(F, w[5 * cols + k]).fma(x0, a5);
            a6 = FloatVector.broadcast(F, w[6 * cols + k]).fma(x0, a6);
            a7 = FloatVector.broadcast(F, w[7 * cols + k]).fma(x0, a7);
        }
        a0.intoArray(lanes, 0);
        a1.intoArray(lanes, TOKENS);
        a2.intoArray(lanes, 2 * TOKENS);
        a3.intoArray(lanes, 3 * TOKENS);
        a4.intoArray(lanes, 4 * TOKENS);
        a5.intoArray(lanes, 5 * TOKENS);
        a6.intoArray(lanes, 6 * TOKENS);
        a7.intoArray(lanes, 7 * TOKENS);
    }

    /** One row: lanes[i·TOKENS + j] = Σ_k w[wOffset + k] · xt block b [k][j]. */
    static void kernel1(float[] w, int wOffset, int cols, float[] xt, int block, float[] lanes, int i) {
        FloatVector a0 = FloatVector.zero(F), a1 = a0;
        int xk = block * cols * TOKENS;
        for (int k = 0; k < cols; k++, xk += TOKENS) {
            FloatVector wk = FloatVector.broadcast(F, w[wOffset + k]);
            a0 = wk.fma(FloatVector.fromArray(F, xt, xk), a0);
            a1 = wk.fma(FloatVector.fromArray(F, xt, xk + L), a1);
        }
        a0.intoArray(lanes, i * TOKENS);
        a1.intoArray(lanes, i * TOKENS + L);
    }

    /** Scalar reference of the whole product, for the tests. */
    static void matmulScalar(WeightTensor w, float[] x, int n, float[] out) {
        int cols = w.cols();
        float[] row = new float[cols];
        for (int r = 0; r < w.rows(); r++) {
            w.dequantizeRow(r, row, 0);
            for (int t = 0; t < n; t++) {
                float sum = 0f;
                for (int k = 0; k < cols; k++) {
                    sum += row[k] * x[t * cols + k];
                }
                out[t * w.rows() + r] = sum;
            }
        }
    }
}
