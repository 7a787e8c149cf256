package dev.nemotron4j.kernels;

/** Causal scaled dot-product attention of one query head over cached keys and values. */
public final class Attention {
    private Attention() {
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
            int k = j * kvDim + kvOffset;
            float s = 0f;
            for (int i = 0; i < headDim; i++) {
                s += q[qOffset + i] * keys[k + i];
            }
            s *= scale;
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
            float p = scores[j] * inv;
            int v = j * kvDim + kvOffset;
            for (int i = 0; i < headDim; i++) {
                out[outOffset + i] += p * values[v + i];
            }
        }
    }
}
