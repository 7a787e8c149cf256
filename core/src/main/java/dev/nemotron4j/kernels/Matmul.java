package dev.nemotron4j.kernels;

import dev.nemotron4j.tensor.WeightTensor;

/** y = W·x for a batch of activation vectors. */
public final class Matmul {
    private Matmul() {
    }

    /**
     * For each of the {@code n} vectors x_t = x[t·cols …] computes out[t·rows + r] = W[r]·x_t. Rows of W are split
     * over threads and each row is applied to the whole batch while it is in cache, so W is read once per call.
     */
    public static void matmul(WeightTensor w, float[] x, int n, float[] out) {
        int rows = w.rows();
        int cols = w.cols();
        Parallel.forRange(rows, 16, (from, to) -> {
            for (int r = from; r < to; r++) {
                for (int t = 0; t < n; t++) {
                    out[t * rows + r] = w.dot(r, x, t * cols);
                }
            }
        });
    }
}
