package dev.nemotron4j.kernels;

import dev.nemotron4j.tensor.WeightTensor;

/** y = W·x for a batch of activation vectors. */
public final class Matmul {
    /** One reusable job per calling thread, so a matmul allocates nothing. */
    private static final ThreadLocal<Job> JOB = ThreadLocal.withInitial(Job::new);

    /** From this many vectors on, decoding every row once ({@link Gemm}) beats the formats' tiles. */
    static final int GEMM_MIN_VECTORS = 32;

    private Matmul() {
    }

    /**
     * For each of the {@code n} vectors x_t = x[t·cols …] computes out[t·rows + r] = W[r]·x_t. Rows of W are split
     * over threads; each format's {@link WeightTensor#matmul} reads a row once for a whole tile of vectors.
     */
    public static void matmul(WeightTensor w, float[] x, int n, float[] out) {
        if (n >= GEMM_MIN_VECTORS) {
            Gemm.matmul(w, x, n, out);
            return;
        }
        Job job = JOB.get();
        job.w = w;
        job.x = x;
        job.n = n;
        job.out = out;
        Parallel.forRange(w.rows(), 16, job);
        job.w = null;
        job.x = null;
        job.out = null;
    }

    private static final class Job implements Parallel.RangeBody {
        WeightTensor w;
        float[] x;
        int n;
        float[] out;

        @Override
        public void run(int from, int to) {
            w.matmul(x, n, out, from, to);
        }
    }
}
