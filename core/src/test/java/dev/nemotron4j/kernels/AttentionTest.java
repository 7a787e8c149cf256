package dev.nemotron4j.kernels;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link Attention#attendAll} against the scalar reference: prompt chunks (tiles and tasks cut at odd places), single
 * rows of several sequences (batched decode), and head sizes the tiles do not take. The caches hold more positions
 * than are filled, and NaN past the filled ones: attention must not read them.
 */
class AttentionTest {
    private final SplittableRandom random = new SplittableRandom(42);

    @Test
    void promptChunksMatchTheReference() {
        // Nemotron's and Minitron's shapes, scaled down: 3 and 4 query heads per kv head, head size 128.
        check(6, 3, 128, List.of(new Run(0, 50)));
        check(8, 4, 128, List.of(new Run(17, 37)));
        check(6, 3, 128, List.of(new Run(100, 34))); // the last task of the chunk has two rows: one by one
        check(3, 3, 128, List.of(new Run(5, 5)));    // five query vectors per kv head: a tile of one
    }

    @Test
    void rowsOfSeveralSequencesMatchTheReference() {
        check(6, 3, 128, List.of(new Run(3, 1), new Run(40, 1), new Run(0, 1), new Run(9, 6), new Run(2, 2)));
    }

    @Test
    void aDecodingRowMatchesTheReference() {
        check(24, 3, 128, List.of(new Run(700, 1)));
        check(32, 4, 128, List.of(new Run(33, 1)));
    }

    @Test
    void headSizesOutsideTheTilesMatchTheReference() {
        check(4, 2, 24, List.of(new Run(7, 20)));
        check(4, 2, 24, List.of(new Run(40, 1), new Run(3, 1)));
    }

    private record Run(int start, int rows) {
    }

    /** Each run is its own sequence: rows at positions start … start + rows − 1, keys filled up to there. */
    private void check(int heads, int group, int headDim, List<Run> runs) {
        int kvDim = heads / group * headDim;
        int qDim = heads * headDim;
        List<float[]> keysOfRow = new ArrayList<>();
        List<float[]> valuesOfRow = new ArrayList<>();
        List<Integer> positionOfRow = new ArrayList<>();
        List<float[]> keyRowsOfRow = new ArrayList<>();
        for (Run run : runs) {
            int length = run.start + run.rows;
            int capacity = length + 37;
            float[] keyRows = randoms(length * kvDim);
            float[] values = randoms(capacity * kvDim);
            Arrays.fill(values, length * kvDim, values.length, Float.NaN);
            int stride = Attention.keyStride(capacity);
            float[] keys = new float[kvDim * stride];
            Arrays.fill(keys, Float.NaN);
            for (int j = 0; j < length; j++) {
                for (int c = 0; c < kvDim; c++) {
                    keys[Attention.keyOffset(c / headDim, j, headDim, stride) + c % headDim * Attention.KEY_BLOCK] =
                            keyRows[j * kvDim + c];
                }
            }
            for (int r = 0; r < run.rows; r++) {
                keysOfRow.add(keys);
                keyRowsOfRow.add(keyRows);
                valuesOfRow.add(values);
                positionOfRow.add(run.start + r);
            }
        }
        int n = keysOfRow.size();
        float[] q = randoms(n * qDim);
        int[] positions = positionOfRow.stream().mapToInt(Integer::intValue).toArray();
        float[] out = new float[n * qDim];
        Attention.attendAll(q, keysOfRow.toArray(float[][]::new), valuesOfRow.toArray(float[][]::new), positions,
                kvDim, heads, group, headDim, n, out);
        float[] expected = new float[n * qDim];
        for (int r = 0; r < n; r++) {
            for (int h = 0; h < heads; h++) {
                int offset = r * qDim + h * headDim;
                Attention.attendScalar(q, offset, keyRowsOfRow.get(r), valuesOfRow.get(r), kvDim, h / group * headDim,
                        positions[r] + 1, headDim, expected, offset);
            }
        }
        for (int i = 0; i < out.length; i++) {
            assertTrue(Math.abs(out[i] - expected[i]) <= 2e-5f * (1 + Math.abs(expected[i])),
                    "element " + i + " (row " + i / qDim + "): " + out[i] + " vs " + expected[i]);
        }
    }

    /** Values like a model's queries and keys: scores of a few units, so the softmax is neither flat nor one-hot. */
    private float[] randoms(int count) {
        float[] v = new float[count];
        for (int i = 0; i < count; i++) {
            v[i] = (float) (random.nextGaussian() * 0.3);
        }
        return v;
    }
}
