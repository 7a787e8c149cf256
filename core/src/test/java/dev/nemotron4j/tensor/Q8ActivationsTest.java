package dev.nemotron4j.tensor;

import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The vector rounding of activation blocks against its scalar reference, halves and signs included, and the per-block
 * sums the packed kernels start from.
 */
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

    /** Q5_K's centring of each window of a block's values: −16 Σ q_j over j in [15w, min(15w + 15, 32)). */
    @Test
    void q5OffsetsCentreEachWindow() {
        int cols = PackedTensor.LANES * Q8Activations.QK + 64; // a whole group and two tail blocks
        int n = 2;
        Random rnd = new Random(4);
        float[] x = new float[n * cols];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) rnd.nextGaussian();
        }
        Q8Activations q = new Q8Activations();
        q.quantize(x, n, cols);
        int blocks = cols / Q8Activations.QK;
        for (int t = 0; t < n; t++) {
            for (int b = 0; b < blocks; b++) {
                for (int w = 0; w < 3; w++) {
                    int expected = 0;
                    for (int j = 15 * w; j < Math.min(15 * w + 15, Q8Activations.QK); j++) {
                        expected -= 16 * q.value(t, b * Q8Activations.QK + j);
                    }
                    assertEquals(expected, q.q5Offsets[(3 * t + w) * blocks + b], "vector " + t + " block " + b);
                }
            }
        }
    }

    /**
     * Whole groups, quantized step by step, against each value rounded alone; their vector sums against the scalar
     * ones of {@link Q8Activations#blockSums}, with blocks of all 127 and all −127 among them (the largest offsets that
     * must fit in shorts).
     */
    @Test
    void groupsMatchTheScalarReference() {
        int cols = 2 * PackedTensor.LANES * Q8Activations.QK + 64; // two whole groups and two tail blocks
        int n = 3;
        Random rnd = new Random(5);
        float[] x = new float[n * cols];
        for (int i = 0; i < x.length; i++) {
            int block = i / Q8Activations.QK;
            x[i] = block % 7 == 1 ? 3f : block % 7 == 4 ? -3f : (float) rnd.nextGaussian();
        }
        Q8Activations q = new Q8Activations();
        q.quantize(x, n, cols);
        for (int t = 0; t < n; t++) {
            for (int c = 0; c < cols; c++) {
                int b = c / Q8Activations.QK;
                float d = Q8Activations.blockScale(x, t * cols + b * Q8Activations.QK);
                assertEquals(d, q.scale(t, b));
                assertEquals(Q8Activations.round(x[t * cols + c] * (1f / d)), q.value(t, c),
                        "vector " + t + " column " + c);
            }
        }
        short[] low = q.lowOffsets.clone();
        short[] q4 = q.q4Offsets.clone();
        short[] q5 = q.q5Offsets.clone();
        short[] q6 = q.q6Offsets.clone();
        float[] sums = q.sums.clone();
        for (int t = 0; t < n; t++) {
            for (int b = 0; b < cols / Q8Activations.QK; b++) {
                q.blockSums(t, b);
            }
        }
        assertArrayEquals(q.lowOffsets, low);
        assertArrayEquals(q.q4Offsets, q4);
        assertArrayEquals(q.q5Offsets, q5);
        assertArrayEquals(q.q6Offsets, q6);
        assertArrayEquals(q.sums, sums);
        assertEquals(-8 * 32 * 127, q.q4Offsets[1]);
        assertEquals(8 * 32 * 127, q.q4Offsets[4]);
    }
}
