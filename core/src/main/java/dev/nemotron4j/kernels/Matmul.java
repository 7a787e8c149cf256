package dev.nemotron4j.kernels;

import dev.nemotron4j.tensor.PackedTensor;
import dev.nemotron4j.tensor.Q8Activations;
import dev.nemotron4j.tensor.WeightTensor;

/** y = W·x for a batch of activation vectors. */
public final class Matmul {
    /** One reusable job per calling thread, so a matmul allocates nothing. */
    private static final ThreadLocal<Job> JOB = ThreadLocal.withInitial(Job::new);

    /**
     * From this many vectors on, {@link Gemm} (decode each row once, then a register-blocked product) beats one dot
     * product per row and vector (which reads a row from memory once and from L1 for the other vectors). Measured on
     * the 4B shape, Q4_0, 2 threads, tokens/s of one step: 4 vectors 42 dots / 25 Gemm, 8: 59 / 53, 16: 72 / 104.
     */
    static final int GEMM_MIN_VECTORS = 12;
    /**
     * The same crossover for a {@link PackedTensor}, whose integer dot products are faster: measured on a 9216 × 3072
     * Q4_0 matrix, 2 threads, vector-matmuls/s: the integer path about 1940 at any count, Gemm 1240 at 12 vectors,
     * 1617 at 16, 2390 at 24.
     */
    static final int GEMM_MIN_VECTORS_PACKED = 20;
    /**
     * From this many vectors on, {@link IntGemm} beats {@link Gemm} on the formats it takes. Measured on a 3072 × 3072
     * Q4_0 matrix, 2 threads, GMAC/s IntGemm / Gemm: 64 vectors 78 / 96, 96: 101 / 99, 128: 116 / 96, 256: 118 / 103.
     */
    static final int INT_GEMM_MIN_VECTORS = 96;

    private Matmul() {
    }

    /**
     * For each of the {@code n} vectors x_t = x[t·cols …] computes out[t·rows + r] = W[r]·x_t. Rows of W are split
     * over threads; below {@link #GEMM_MIN_VECTORS} vectors each format's {@link WeightTensor#matmul} takes one dot
     * product per row and vector, and below {@link #GEMM_MIN_VECTORS_PACKED} a {@link PackedTensor} one integer dot
     * product on the vectors quantized to 8 bits (once, before the rows are split). From there on {@link Gemm}, and
     * from {@link #INT_GEMM_MIN_VECTORS} on {@link IntGemm} for the formats it takes.
     */
    public static void matmul(WeightTensor w, float[] x, int n, float[] out) {
        if (n >= (w instanceof PackedTensor ? GEMM_MIN_VECTORS_PACKED : GEMM_MIN_VECTORS)) {
            if (n >= INT_GEMM_MIN_VECTORS && IntGemm.supports(w)) {
                IntGemm.matmul(w, x, n, out);
            } else {
                Gemm.matmul(w, x, n, out);
            }
            return;
        }
        Job job = JOB.get();
        job.w = w;
        job.x = x;
        job.n = n;
        job.out = out;
        if (w instanceof PackedTensor) {
            job.quantized.quantize(x, n, w.cols());
        }
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
        final Q8Activations quantized = new Q8Activations();

        @Override
        public void run(int from, int to) {
            if (w instanceof PackedTensor p) {
                p.matmul(quantized, out, from, to);
            } else {
                w.matmul(x, n, out, from, to);
            }
        }
    }
}
