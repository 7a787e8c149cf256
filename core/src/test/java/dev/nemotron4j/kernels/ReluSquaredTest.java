package dev.nemotron4j.kernels;

import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

class ReluSquaredTest {
    @Test
    void vectorsAgreeWithTheScalarReference() {
        Random random = new Random(11);
        for (int n : new int[] {1, 15, 16, 17, 100, 9216}) {
            float[] up = new float[n];
            for (int i = 0; i < n; i++) {
                up[i] = i % 5 == 0 ? -0f : (float) random.nextGaussian() * 4f;
            }
            float[] expected = new float[n];
            float[] actual = new float[n];
            ReluSquared.applyScalar(up, expected, 0, n);
            ReluSquared.apply(up, actual, n);
            assertArrayEquals(expected, actual, "n=" + n);
        }
    }
}
