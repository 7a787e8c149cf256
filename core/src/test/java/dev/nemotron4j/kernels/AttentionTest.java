package dev.nemotron4j.kernels;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link Attention#attendAll} against the scalar reference: prompt chunks (tiles and tasks cut at odd places), single
 * rows of several sequences (batched decode), and head sizes the tiles do not take; each on a float cache and on a
 * half-float one ({@link Attention#attendAllHalf}). The caches hold more positions than are filled, and poison past the
 * filled ones: attention must not read them.
 */
class AttentionTest {
    /** 65504: read by mistake, it would show in any sum. */
    private static final short LARGEST_HALF = 0x7BFF;
    private final SplittableRandom random = new SplittableRandom(42);

    @Test
    void promptChunksMatchTheReference() {
        // Nemotron's and Minitron's shapes, scaled down: 3 and 4 query heads per kv head, head size 128.
        check(6, 3, 128, List.of(new Run(0, 50)));
        check(8, 4, 128, List.of(new Run(17, 37)));
        check(6, 3, 128, List.of(new Run(100, 34))); // the last task of the chunk has two rows: one by one
        check(3, 3, 128, List.of(new Run(5, 5)));    // five query vectors per kv head: a tile of one
        check(6, 3, 128, List.of(new Run(230, 60))); // rows ending on both sides of a span's end
        check(8, 4, 128, List.of(new Run(490, 90))); // tasks and spans cut at other places
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

    /** {@link #check(int, int, int, List, boolean)} on a float cache, then on a half-float one. */
    private void check(int heads, int group, int headDim, List<Run> runs) {
        check(heads, group, headDim, runs, false);
        check(heads, group, headDim, runs, true);
    }

    /**
     * Each run is its own sequence: rows at positions start … start + rows − 1, keys filled up to there. A half-float
     * cache holds the keys and values rounded to halves, and so does the reference; its unfilled places hold the
     * largest half, where a float cache holds NaN.
     */
    private void check(int heads, int group, int headDim, List<Run> runs, boolean half) {
        int kvDim = heads / group * headDim;
        int qDim = heads * headDim;
        List<float[]> keysOfRow = new ArrayList<>();
        List<float[]> valuesOfRow = new ArrayList<>();
        List<short[]> halfKeysOfRow = new ArrayList<>();
        List<short[]> halfValuesOfRow = new ArrayList<>();
        List<float[]> keyRowsOfRow = new ArrayList<>();
        List<float[]> valueRowsOfRow = new ArrayList<>();
        List<Integer> positionOfRow = new ArrayList<>();
        for (Run run : runs) {
            int length = run.start + run.rows;
            int capacity = length + 37;
            float[] keyRows = randoms(length * kvDim, half);
            float[] valueRows = randoms(length * kvDim, half);
            int stride = Attention.keyStride(capacity);
            float[] keys = new float[kvDim * stride];
            float[] values = new float[capacity * kvDim];
            short[] halfKeys = new short[kvDim * stride];
            short[] halfValues = new short[capacity * kvDim];
            Arrays.fill(keys, Float.NaN);
            Arrays.fill(values, Float.NaN);
            Arrays.fill(halfKeys, LARGEST_HALF);
            Arrays.fill(halfValues, LARGEST_HALF);
            for (int j = 0; j < length; j++) {
                for (int c = 0; c < kvDim; c++) {
                    int d = c % headDim * Attention.KEY_BLOCK;
                    float key = keyRows[j * kvDim + c];
                    float value = valueRows[j * kvDim + c];
                    keys[Attention.keyOffset(c / headDim, j, headDim, stride) + d] = key;
                    values[j * kvDim + c] = value;
                    halfKeys[Attention.halfKeyOffset(c / headDim, j, headDim, stride) + d] = Float.floatToFloat16(key);
                    halfValues[j * kvDim + Attention.halfValueIndex(c, kvDim)] = Float.floatToFloat16(value);
                }
            }
            for (int r = 0; r < run.rows; r++) {
                keysOfRow.add(keys);
                valuesOfRow.add(values);
                halfKeysOfRow.add(halfKeys);
                halfValuesOfRow.add(halfValues);
                keyRowsOfRow.add(keyRows);
                valueRowsOfRow.add(valueRows);
                positionOfRow.add(run.start + r);
            }
        }
        int n = keysOfRow.size();
        float[] q = randoms(n * qDim, false);
        int[] positions = positionOfRow.stream().mapToInt(Integer::intValue).toArray();
        float[] out = new float[n * qDim];
        if (half) {
            Attention.attendAllHalf(q, halfKeysOfRow.toArray(short[][]::new), halfValuesOfRow.toArray(short[][]::new),
                    positions, kvDim, heads, group, headDim, n, out);
        } else {
            Attention.attendAll(q, keysOfRow.toArray(float[][]::new), valuesOfRow.toArray(float[][]::new), positions,
                    kvDim, heads, group, headDim, n, out);
        }
        float[] expected = new float[n * qDim];
        for (int r = 0; r < n; r++) {
            for (int h = 0; h < heads; h++) {
                int offset = r * qDim + h * headDim;
                Attention.attendScalar(q, offset, keyRowsOfRow.get(r), valueRowsOfRow.get(r), kvDim,
                        h / group * headDim, positions[r] + 1, headDim, expected, offset);
            }
        }
        for (int i = 0; i < out.length; i++) {
            assertTrue(Math.abs(out[i] - expected[i]) <= 2e-5f * (1 + Math.abs(expected[i])),
                    (half ? "half" : "float") + " cache, element " + i + " (row " + i / qDim + "): " + out[i]
                            + " vs " + expected[i]);
        }
    }

    /**
     * Values like a model's queries and keys: scores of a few units, so the softmax is neither flat nor one-hot;
     * rounded to halves if {@code half}.
     */
    private float[] randoms(int count, boolean half) {
        float[] v = new float[count];
        for (int i = 0; i < count; i++) {
            v[i] = (float) (random.nextGaussian() * 0.3);
            if (half) {
                v[i] = Float.float16ToFloat(Float.floatToFloat16(v[i]));
            }
        }
        return v;
    }
}
