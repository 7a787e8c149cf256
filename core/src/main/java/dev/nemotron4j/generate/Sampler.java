package dev.nemotron4j.generate;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Chooses the next token from a row of logits. The steps follow Hugging Face's order: penalties on recent tokens,
 * temperature, top-k, top-p (nucleus), min-p, then a draw from what is left. Greedy (temperature 0) takes the argmax
 * of the penalised logits. One sampler per sequence: it owns its random stream and scratch arrays.
 */
public final class Sampler {
    private final SamplingParams params;
    private final SplittableRandom random;
    private final float[] work;
    private long[] order = new long[0];

    public Sampler(SamplingParams params, int vocabSize) {
        this.params = params;
        this.random = new SplittableRandom(params.seed());
        this.work = new float[vocabSize];
    }

    public SamplingParams params() {
        return params;
    }

    /**
     * Picks a token from {@code logits[offset … offset+vocab)} given the tokens generated or prompted so far
     * ({@code history[0 … historyLength)}, used by the penalties). The logits are not modified.
     */
    public int sample(float[] logits, int offset, int[] history, int historyLength) {
        int vocab = work.length;
        System.arraycopy(logits, offset, work, 0, vocab);
        applyPenalties(history, historyLength);
        if (params.greedy()) {
            return argmax(work);
        }
        float invT = 1f / params.temperature();
        float max = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < vocab; i++) {
            work[i] *= invT;
            max = Math.max(max, work[i]);
        }
        int n = candidatesByProbability(max);
        return draw(n);
    }

    /** Log-probability of {@code token} and the top alternatives, from the raw (unpenalised) logits. */
    public TokenLogprob logprob(float[] logits, int offset, int token, int topN) {
        int vocab = work.length;
        float max = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < vocab; i++) {
            max = Math.max(max, logits[offset + i]);
        }
        double sum = 0;
        for (int i = 0; i < vocab; i++) {
            sum += Math.exp(logits[offset + i] - max);
        }
        float logZ = (float) (max + Math.log(sum));
        List<TokenLogprob.Alternative> top = new ArrayList<>(Math.max(0, topN));
        if (topN > 0) {
            int[] best = topIndices(logits, offset, vocab, topN);
            for (int id : best) {
                top.add(new TokenLogprob.Alternative(id, logits[offset + id] - logZ));
            }
        }
        return new TokenLogprob(token, logits[offset + token] - logZ, List.copyOf(top));
    }

    private void applyPenalties(int[] history, int historyLength) {
        boolean repetition = params.repetitionPenalty() != 1f;
        boolean additive = params.presencePenalty() != 0f || params.frequencyPenalty() != 0f;
        if ((!repetition && !additive) || historyLength == 0 || params.penaltyWindow() == 0) {
            return;
        }
        int from = Math.max(0, historyLength - params.penaltyWindow());
        // Count occurrences with a sort of the window, so the penalty is applied once per distinct token.
        int[] window = Arrays.copyOfRange(history, from, historyLength);
        Arrays.sort(window);
        for (int i = 0; i < window.length; ) {
            int token = window[i];
            int j = i;
            while (j < window.length && window[j] == token) {
                j++;
            }
            int count = j - i;
            if (token >= 0 && token < work.length) {
                float l = work[token];
                if (repetition) {
                    l = l > 0 ? l / params.repetitionPenalty() : l * params.repetitionPenalty();
                }
                work[token] = l - count * params.frequencyPenalty() - params.presencePenalty();
            }
            i = j;
        }
    }

    /**
     * Leaves in {@code order[0 … n)} the surviving candidates sorted by descending probability (token in the low
     * 32 bits), with their unnormalised probabilities in {@code work}, and returns n.
     */
    private int candidatesByProbability(float max) {
        int vocab = work.length;
        for (int i = 0; i < vocab; i++) {
            work[i] = (float) Math.exp(work[i] - max);
        }
        int k = params.topK() > 0 ? Math.min(params.topK(), vocab) : vocab;
        int[] kept = k < vocab ? topIndices(work, 0, vocab, k) : null;
        int n = kept != null ? kept.length : vocab;
        if (order.length < n) {
            order = new long[n];
        }
        for (int i = 0; i < n; i++) {
            int token = kept != null ? kept[i] : i;
            // Probabilities are non-negative, so their float bits sort like the values; negate for descending order.
            order[i] = ((long) -Float.floatToRawIntBits(work[token]) << 32) | token;
        }
        Arrays.sort(order, 0, n);
        double total = 0;
        for (int i = 0; i < n; i++) {
            total += work[token(i)];
        }
        if (params.topP() < 1f) {
            double cumulative = 0;
            for (int i = 0; i < n; i++) {
                cumulative += work[token(i)] / total;
                if (cumulative >= params.topP()) {
                    n = i + 1;
                    break;
                }
            }
        }
        if (params.minP() > 0f) {
            float threshold = work[token(0)] * params.minP();
            int keep = 1;
            while (keep < n && work[token(keep)] >= threshold) {
                keep++;
            }
            n = keep;
        }
        return n;
    }

    private int draw(int n) {
        double total = 0;
        for (int i = 0; i < n; i++) {
            total += work[token(i)];
        }
        double r = random.nextDouble() * total;
        for (int i = 0; i < n; i++) {
            r -= work[token(i)];
            if (r < 0) {
                return token(i);
            }
        }
        return token(n - 1);
    }

    private int token(int rank) {
        return (int) order[rank];
    }

    static int argmax(float[] values) {
        int best = 0;
        for (int i = 1; i < values.length; i++) {
            if (values[i] > values[best]) {
                best = i;
            }
        }
        return best;
    }

    /** Indices of the {@code k} largest values, largest first, with a bounded min-heap. */
    static int[] topIndices(float[] values, int offset, int n, int k) {
        int[] heap = new int[k];
        int size = 0;
        for (int i = 0; i < n; i++) {
            float v = values[offset + i];
            if (size < k) {
                heap[size] = i;
                siftUp(heap, size++, values, offset);
            } else if (v > values[offset + heap[0]]) {
                heap[0] = i;
                siftDown(heap, size, values, offset);
            }
        }
        int[] out = new int[size];
        for (int i = size - 1; i >= 0; i--) {
            out[i] = heap[0];
            heap[0] = heap[i];
            siftDown(heap, i, values, offset);
        }
        return out;
    }

    private static void siftUp(int[] heap, int i, float[] values, int offset) {
        while (i > 0) {
            int parent = (i - 1) / 2;
            if (values[offset + heap[i]] >= values[offset + heap[parent]]) {
                return;
            }
            int t = heap[i];
            heap[i] = heap[parent];
            heap[parent] = t;
            i = parent;
        }
    }

    private static void siftDown(int[] heap, int size, float[] values, int offset) {
        int i = 0;
        while (true) {
            int l = 2 * i + 1;
            int smallest = i;
            if (l < size && values[offset + heap[l]] < values[offset + heap[smallest]]) {
                smallest = l;
            }
            if (l + 1 < size && values[offset + heap[l + 1]] < values[offset + heap[smallest]]) {
                smallest = l + 1;
            }
            if (smallest == i) {
                return;
            }
            int t = heap[i];
            heap[i] = heap[smallest];
            heap[smallest] = t;
            i = smallest;
        }
    }
}
