package dev.nemotron4j.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/** Causal scaled dot-product attention over cached keys and values. */
public final class Attention {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    /** One reusable job per calling thread, so attention allocates nothing. */
    private static final ThreadLocal<Heads> JOB = ThreadLocal.withInitial(Heads::new);

    private Attention() {
    }

    /**
     * Attention of {@code n} query rows with {@code heads} query heads each, in parallel over heads. Row r attends to
     * positions [0, positions[r]] of its own sequence's cache ({@code keys[r]}, {@code values[r]}, each
     * [position][kvDim]); query head h uses kv head h / group. q and out are [n][heads·headDim]; {@code scores[h]}
     * holds at least max(positions) + 1 floats.
     */
    public static void attendAll(float[] q, float[][] keys, float[][] values, int[] positions, int kvDim, int heads,
                                 int group, int headDim, int n, float[][] scores, float[] out) {
        Heads job = JOB.get();
        job.q = q;
        job.keys = keys;
        job.values = values;
        job.positions = positions;
        job.kvDim = kvDim;
        job.group = group;
        job.headDim = headDim;
        job.qDim = heads * headDim;
        job.n = n;
        job.scores = scores;
        job.out = out;
        Parallel.forRange(heads, 1, job);
        job.q = null;
        job.keys = null;
        job.values = null;
        job.positions = null;
        job.scores = null;
        job.out = null;
    }

    private static final class Heads implements Parallel.RangeBody {
        float[] q;
        float[][] keys;
        float[][] values;
        int[] positions;
        int kvDim;
        int group;
        int headDim;
        int qDim;
        int n;
        float[][] scores;
        float[] out;

        @Override
        public void run(int fromHead, int toHead) {
            for (int h = fromHead; h < toHead; h++) {
                int kvOffset = (h / group) * headDim;
                for (int r = 0; r < n; r++) {
                    int qOffset = r * qDim + h * headDim;
                    attend(q, qOffset, keys[r], values[r], kvDim, kvOffset, positions[r] + 1, headDim, scores[h], out,
                            qOffset);
                }
            }
        }
    }

    /**
     * out[outOffset …+headDim] = Σ_j softmax_j(q·k_j / √headDim) · v_j over positions j in [0, positions), where
     * k_j = keys[j·kvDim + kvOffset …] and likewise v_j. {@code scores} holds at least {@code positions} floats.
     */
    public static void attend(float[] q, int qOffset, float[] keys, float[] values, int kvDim, int kvOffset,
                              int positions, int headDim, float[] scores, float[] out, int outOffset) {
        float scale = (float) (1.0 / Math.sqrt(headDim));
        float max = Float.NEGATIVE_INFINITY;
        for (int j = 0; j < positions; j++) {
            float s = dot(q, qOffset, keys, j * kvDim + kvOffset, headDim) * scale;
            scores[j] = s;
            max = Math.max(max, s);
        }
        float sum = 0f;
        for (int j = 0; j < positions; j++) {
            float e = (float) Math.exp(scores[j] - max);
            scores[j] = e;
            sum += e;
        }
        float inv = 1f / sum;
        java.util.Arrays.fill(out, outOffset, outOffset + headDim, 0f);
        for (int j = 0; j < positions; j++) {
            axpy(scores[j] * inv, values, j * kvDim + kvOffset, out, outOffset, headDim);
        }
    }

    /** Σ a[ao + i] · b[bo + i] for i in [0, len). */
    static float dot(float[] a, int ao, float[] b, int bo, int len) {
        FloatVector acc = FloatVector.zero(F);
        int i = 0;
        for (; i <= len - F.length(); i += F.length()) {
            acc = FloatVector.fromArray(F, a, ao + i).fma(FloatVector.fromArray(F, b, bo + i), acc);
        }
        float s = acc.reduceLanes(VectorOperators.ADD);
        for (; i < len; i++) {
            s += a[ao + i] * b[bo + i];
        }
        return s;
    }

    /** y[yo + i] += alpha · x[xo + i] for i in [0, len). */
    static void axpy(float alpha, float[] x, int xo, float[] y, int yo, int len) {
        FloatVector a = FloatVector.broadcast(F, alpha);
        int i = 0;
        for (; i <= len - F.length(); i += F.length()) {
            FloatVector.fromArray(F, x, xo + i).fma(a, FloatVector.fromArray(F, y, yo + i)).intoArray(y, yo + i);
        }
        for (; i < len; i++) {
            y[yo + i] += alpha * x[xo + i];
        }
    }
}
