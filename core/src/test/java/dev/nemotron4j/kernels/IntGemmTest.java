package dev.nemotron4j.kernels;

import dev.nemotron4j.tensor.GGMLType;
import dev.nemotron4j.tensor.PackedTensor;
import dev.nemotron4j.tensor.TestTensors;
import dev.nemotron4j.tensor.WeightTensor;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.Arrays;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The integer prompt product against its scalar reference (the same 8-bit activations, summed in doubles), and
 * against the float product within what 8-bit activations cost; rows, vectors and columns off the blocks.
 */
class IntGemmTest {
    private static final int GROUP = 32 * PackedTensor.LANES;

    private static float[] gaussian(int size, long seed) {
        Random rnd = new Random(seed);
        float[] v = new float[size];
        for (int i = 0; i < size; i++) {
            v[i] = (float) rnd.nextGaussian() * (i % 97 == 0 ? 20f : 1f);
        }
        return v;
    }

    @ParameterizedTest(name = "{0} cols = groups·{1} + {2}")
    @CsvSource({"Q4_0, 1, 0", "Q4_0, 1, 256", "Q4_K, 1, 0", "Q4_K, 1, 256"})
    void matchesScalarReference(GGMLType type, int groups, int tail) {
        int cols = groups * GROUP + tail;
        WeightTensor w = TestTensors.pack(TestTensors.random(type, 10, cols, 23));
        assertTrue(IntGemm.supports(w));
        int threads = Parallel.threads();
        try {
            for (int t : new int[] {1, 2}) {
                Parallel.setThreads(t);
                for (int n : new int[] {1, 20, IntGemm.TOKENS, IntGemm.TOKENS + 37, 2 * IntGemm.TOKENS}) {
                    check(w, n);
                }
            }
        } finally {
            Parallel.setThreads(threads);
        }
    }

    /**
     * The decode path quantizes each vector the same way and multiplies the same integers, so a prompt's products
     * equal its vectors' products taken one at a time, up to the order of float sums.
     */
    @ParameterizedTest(name = "{0} cols = groups·{1} + {2}")
    @CsvSource({"Q4_0, 1, 256", "Q4_K, 2, 256"})
    void agreesWithTheDecodePath(GGMLType type, int groups, int tail) {
        int cols = groups * GROUP + tail;
        WeightTensor w = TestTensors.pack(TestTensors.random(type, 24, cols, 29));
        int n = IntGemm.TOKENS + 5;
        float[] x = gaussian(n * cols, 31);
        float[] prompt = new float[n * w.rows()];
        IntGemm.matmul(w, x, n, prompt);
        float[] one = new float[w.rows()];
        float[] row = new float[cols];
        for (int t = 0; t < n; t++) {
            Matmul.matmul(w, Arrays.copyOfRange(x, t * cols, (t + 1) * cols), 1, one);
            for (int r = 0; r < w.rows(); r++) {
                w.dequantizeRow(r, row, 0);
                double magnitude = 0;
                for (int c = 0; c < cols; c++) {
                    magnitude += Math.abs(row[c] * x[t * cols + c]);
                }
                assertEquals(one[r], prompt[t * w.rows() + r], 1e-5 * magnitude, type + " row " + r + " vector " + t);
            }
        }
    }

    private static void check(WeightTensor w, int n) {
        int cols = w.cols();
        float[] x = gaussian(n * cols, n);
        float[] reference = new float[n * w.rows()];
        float[] actual = new float[n * w.rows()];
        float[] exact = new float[n * w.rows()];
        IntGemm.matmulScalar(w, x, n, reference);
        IntGemm.matmul(w, x, n, actual);
        Gemm.matmulScalar(w, x, n, exact);
        float[] row = new float[cols];
        for (int r = 0; r < w.rows(); r++) {
            w.dequantizeRow(r, row, 0);
            for (int t = 0; t < n; t++) {
                double magnitude = 0;
                double rounding = 0; // 8-bit activations: each value within half a step, d/2 = max|x|/254 of its block
                for (int b = 0; b < cols / 32; b++) {
                    double max = 0;
                    double weights = 0;
                    for (int c = b * 32; c < (b + 1) * 32; c++) {
                        magnitude += Math.abs(row[c] * x[t * cols + c]);
                        max = Math.max(max, Math.abs(x[t * cols + c]));
                        weights += Math.abs(row[c]);
                    }
                    rounding += max / 254 * weights;
                }
                int i = t * w.rows() + r;
                String what = w.type() + " " + cols + " cols, n=" + n + ", row " + r + " vector " + t;
                assertEquals(reference[i], actual[i], 1e-5 * magnitude, what + ": kernel vs scalar reference");
                assertEquals(exact[i], actual[i], rounding + 1e-5 * magnitude, what + ": integer vs float product");
            }
        }
    }
}
