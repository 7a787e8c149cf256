package dev.nemotron4j.kernels;

import dev.nemotron4j.tensor.GGMLType;
import dev.nemotron4j.tensor.TestTensors;
import dev.nemotron4j.tensor.WeightTensor;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * Matrices of one input in one call (a layer's query, key and value) give what each gives alone, whatever mix of
 * packed and float formats, decoding (one shared region) and in prompts (each its own product).
 */
class MatmulTest {
    private static final int COLS = 1024 + 256; // a whole group of packed blocks and a tail
    /**
     * Results are ~30 in magnitude; a call in the interpreter sums the lanes of a vector in another order than
     * compiled code (last bits differ), a row mixed up with another is off by tens.
     */
    private static final float TOLERANCE = 1e-3f;

    @ParameterizedTest
    @ValueSource(ints = {1, 3, 24, 40, 100})
    void sharedInputGivesWhatEachMatrixGivesAlone(int n) {
        Parallel.setThreads(2);
        WeightTensor q = TestTensors.pack(TestTensors.random(GGMLType.Q4_0, 67, COLS, 1));
        WeightTensor k = TestTensors.random(GGMLType.F16, 19, COLS, 2);
        WeightTensor v = TestTensors.pack(TestTensors.random(GGMLType.Q6_K, 35, COLS, 3));
        float[] x = TestTensors.gaussian(n * COLS, 4);
        float[] q1 = new float[n * q.rows()];
        float[] k1 = new float[n * k.rows()];
        float[] v1 = new float[n * v.rows()];
        Matmul.matmul(x, n, q, q1, k, k1, v, v1);
        float[] alone = new float[n * q.rows()];
        Matmul.matmul(q, x, n, alone);
        assertArrayEquals(alone, q1, TOLERANCE);
        alone = new float[n * k.rows()];
        Matmul.matmul(k, x, n, alone);
        assertArrayEquals(alone, k1, TOLERANCE);
        alone = new float[n * v.rows()];
        Matmul.matmul(v, x, n, alone);
        assertArrayEquals(alone, v1, TOLERANCE);

        float[] gate = new float[n * v.rows()];
        float[] up = new float[n * q.rows()];
        Matmul.matmul(x, n, v, gate, q, up, null, null);
        assertArrayEquals(v1, gate, TOLERANCE);
        assertArrayEquals(q1, up, TOLERANCE);
    }

    /**
     * The integer prompt product quantizes the input once for all the matrices of a call; the vectors past its last
     * whole vector of lanes (8 of 200) take the dot products, as they would alone.
     */
    @ParameterizedTest
    @ValueSource(ints = {Matmul.INT_GEMM_MIN_VECTORS, 200})
    void integerProductsShareOneQuantization(int n) {
        Parallel.setThreads(2);
        WeightTensor q = TestTensors.pack(TestTensors.random(GGMLType.Q4_0, 67, COLS, 5));
        WeightTensor k = TestTensors.pack(TestTensors.random(GGMLType.Q4_K, 20, COLS, 6));
        WeightTensor v = TestTensors.pack(TestTensors.random(GGMLType.Q4_0, 35, COLS, 7));
        float[] x = TestTensors.gaussian(n * COLS, 8);
        float[] q1 = new float[n * q.rows()];
        float[] k1 = new float[n * k.rows()];
        float[] v1 = new float[n * v.rows()];
        Matmul.matmul(x, n, q, q1, k, k1, v, v1);
        float[] other = TestTensors.gaussian(n * COLS, 9);
        float[] next = new float[n * q.rows()];
        Matmul.matmul(q, other, n, next);
        int whole = n / IntGemm.LANE_TOKENS * IntGemm.LANE_TOKENS;
        WeightTensor[] matrices = {q, k, v, q};
        float[][] inputs = {x, x, x, other};
        float[][] results = {q1, k1, v1, next};
        for (int i = 0; i < matrices.length; i++) {
            int rows = matrices[i].rows();
            float[] alone = new float[n * rows];
            IntGemm.matmul(matrices[i], inputs[i], whole, alone);
            assertArrayEquals(Arrays.copyOf(alone, whole * rows), Arrays.copyOf(results[i], whole * rows),
                    "call " + i);
            float[] rest = new float[(n - whole) * rows];
            Matmul.matmul(matrices[i], Arrays.copyOfRange(inputs[i], whole * COLS, n * COLS), n - whole, rest);
            assertArrayEquals(rest, Arrays.copyOfRange(results[i], whole * rows, n * rows), "call " + i + ", rest");
        }
    }

    /**
     * Below the integer prompt product, Q4_0 and Q4_K prompts take the integer dot products of decoding (as each vector
     * alone does, to the last bits), not the f32 product, which does not quantize the vectors and differs by
     * thousandths here.
     */
    @ParameterizedTest
    @ValueSource(ints = {Matmul.GEMM_MIN_VECTORS_PACKED, Matmul.INT_GEMM_MIN_VECTORS - 1})
    void shortPromptsOnIntegerFormatsTakeTheDotProducts(int n) {
        Parallel.setThreads(2);
        for (GGMLType type : new GGMLType[] {GGMLType.Q4_0, GGMLType.Q4_K}) {
            WeightTensor w = TestTensors.pack(TestTensors.random(type, 36, COLS, 10));
            float[] x = TestTensors.gaussian(n * COLS, 11);
            float[] prompt = new float[n * w.rows()];
            Matmul.matmul(w, x, n, prompt);
            float[] alone = new float[w.rows()];
            for (int t = 0; t < n; t++) {
                Matmul.matmul(w, Arrays.copyOfRange(x, t * COLS, (t + 1) * COLS), 1, alone);
                for (int r = 0; r < w.rows(); r++) {
                    assertEquals(alone[r], prompt[t * w.rows() + r], 1e-4f, type + " vector " + t + " row " + r);
                }
            }
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 100})
    void matricesOfDifferentWidthsAreRefused(int n) {
        WeightTensor a = TestTensors.random(GGMLType.F16, 4, COLS, 1);
        WeightTensor b = TestTensors.random(GGMLType.F16, 4, COLS + 32, 2);
        float[] x = TestTensors.gaussian(n * COLS, 3);
        assertThrows(IllegalArgumentException.class,
                () -> Matmul.matmul(x, n, a, new float[4 * n], b, new float[4 * n], null, null));
        // The failed call left nothing behind: the matrix of the other width goes through alone.
        float[] xb = TestTensors.gaussian(n * b.cols(), 4);
        float[] out = new float[4 * n];
        Matmul.matmul(b, xb, n, out);
        for (int t = 0; t < n; t++) {
            for (int r = 0; r < 4; r++) {
                assertEquals(b.dotScalar(r, xb, t * b.cols()), out[t * 4 + r], 1e-2f);
            }
        }
    }
}
