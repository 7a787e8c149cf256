package dev.nemotron4j.tensor;

import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The vector rounding of activation blocks against its scalar reference, halves and signs included. */
class Q8ActivationsTest {
    @Test
    void roundBlockMatchesRound() {
        float[] edges = {0f, -0f, 0.5f, -0.5f, 1.5f, -1.5f, 2.5f, -2.5f, 0.49999997f, -0.49999997f, 126.5f, -126.5f,
                127f, -127f, 63.5f, -63.5f, Math.nextUp(0.5f), Math.nextDown(-0.5f)};
        Random rnd = new Random(9);
        float[] x = new float[Q8Activations.QK * 8];
        for (int i = 0; i < x.length; i++) {
            x[i] = i < edges.length ? edges[i] : (float) rnd.nextGaussian() * 60f;
        }
        int[] q = new int[Q8Activations.QK];
        for (int offset = 0; offset < x.length; offset += Q8Activations.QK) {
            for (float id : new float[] {1f, 0.37f, 0f}) {
                Q8Activations.roundBlock(x, offset, id, q);
                for (int j = 0; j < Q8Activations.QK; j++) {
                    assertEquals(Q8Activations.round(x[offset + j] * id), q[j], "x = " + x[offset + j] + ", id = " + id);
                }
            }
        }
    }
}
