package dev.nemotron4j.kernels;

import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;

class SiluTest {
    @Test
    void vectorsAgreeWithTheScalarReference() {
        Random random = new Random(7);
        for (int n : new int[] {1, 15, 16, 17, 100, 16384}) {
            float[] gate = new float[n];
            float[] up = new float[n];
            for (int i = 0; i < n; i++) {
                gate[i] = (float) random.nextGaussian() * 6f;
                up[i] = (float) random.nextGaussian();
            }
            float[] expected = gate.clone();
            Silu.gateScalar(expected, up, 0, n);
            Silu.gate(gate, up, n);
            for (int i = 0; i < n; i++) {
                assertEquals(expected[i], gate[i], 1e-6f * Math.max(1f, Math.abs(expected[i])), "n=" + n + " i=" + i);
            }
        }
    }

    @Test
    void saturatesWithoutOverflow() {
        float[] gate = {-1000f, -100f, -0f, 0f, 100f, 1000f, 3f, -3f, 20f, -20f, 1e-30f, -88f, 89f, 50f, -50f, 2f};
        float[] up = new float[gate.length];
        java.util.Arrays.fill(up, 2f);
        Silu.gate(gate, up, gate.length);
        float[] expected = {0f, 0f, 0f, 0f, 200f, 2000f, 3f / (1f + (float) Math.exp(-3)) * 2f,
                -3f / (1f + (float) Math.exp(3)) * 2f, 40f, 0f, 1e-30f, 0f, 178f, 100f, 0f,
                2f / (1f + (float) Math.exp(-2)) * 2f};
        for (int i = 0; i < gate.length; i++) {
            assertEquals(expected[i], gate[i], 1e-5f * Math.max(1f, Math.abs(expected[i])), "gate " + i);
        }
    }
}
