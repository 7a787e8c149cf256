package dev.nemotron4j.kernels;

import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The vector normalisations against their scalar references, at widths with and without a scalar remainder. */
class NormsTest {
    @Test
    void layerNormAgreesWithTheScalarReference() {
        Random random = new Random(3);
        for (int dim : new int[] {1, 7, 16, 17, 100, 3072, 4096}) {
            float[] x = values(random, 5 + dim, 40f, 3f);
            float[] weight = values(random, dim, 1f, 1f);
            float[] bias = values(random, dim, 0.5f, 0f);
            float[] expected = new float[dim + 2];
            float[] actual = new float[dim + 2];
            Norms.layerNormScalar(expected, 2, x, 5, weight, bias, dim, 1e-5f);
            Norms.layerNorm(actual, 2, x, 5, weight, bias, dim, 1e-5f);
            assertClose(expected, actual, "dim " + dim);
        }
    }

    @Test
    void rmsNormAgreesWithTheScalarReference() {
        Random random = new Random(4);
        for (int dim : new int[] {1, 7, 16, 17, 100, 4096, 5120}) {
            float[] x = values(random, 3 + dim, 20f, -1f);
            float[] weight = values(random, dim, 1f, 1f);
            float[] expected = new float[dim + 1];
            float[] actual = new float[dim + 1];
            Norms.rmsNormScalar(expected, 1, x, 3, weight, dim, 1e-5f);
            Norms.rmsNorm(actual, 1, x, 3, weight, dim, 1e-5f);
            assertClose(expected, actual, "dim " + dim);
        }
    }

    /** A constant vector has no variance: every value becomes the bias. */
    @Test
    void layerNormOfAConstantIsTheBias() {
        float[] x = new float[48];
        java.util.Arrays.fill(x, 7.25f);
        float[] weight = values(new Random(1), 48, 1f, 1f);
        float[] bias = values(new Random(2), 48, 1f, 0f);
        float[] out = new float[48];
        Norms.layerNorm(out, 0, x, 0, weight, bias, 48, 1e-5f);
        for (int i = 0; i < 48; i++) {
            assertEquals(bias[i], out[i], 0f, "value " + i);
        }
    }

    private static float[] values(Random random, int n, float scale, float shift) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) random.nextGaussian() * scale + shift;
        }
        return v;
    }

    private static void assertClose(float[] expected, float[] actual, String what) {
        for (int i = 0; i < expected.length; i++) {
            assertEquals(expected[i], actual[i], 2e-6f * Math.max(1f, Math.abs(expected[i])), what + ", value " + i);
        }
    }
}
