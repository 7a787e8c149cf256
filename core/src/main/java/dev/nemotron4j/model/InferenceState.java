package dev.nemotron4j.model;

/**
 * Everything one sequence needs besides the shared weights: its KV cache and the activation buffers of the forward
 * pass, grown to the largest batch seen and then reused, so decoding a token allocates nothing.
 */
public final class InferenceState {
    final ModelConfig config;
    final KvCache cache;
    int batchCapacity;
    float[] x;       // residual stream, [n][dim]
    float[] xb;      // normalised input of a block, [n][dim]
    float[] q;       // [n][qDim]
    float[] k;       // [n][kvDim]
    float[] v;       // [n][kvDim]
    float[] att;     // attention output, [n][qDim]
    float[] proj;    // output of o_proj / down_proj, [n][dim]
    float[] hidden;  // MLP hidden (gate), [n][hiddenDim]
    float[] up;      // MLP up projection, [n][hiddenDim]
    float[] logits;  // [rows][vocab]
    final float[][] scores; // per query head, attention scores over positions
    private final int[] tokens; // the token at each cached position

    public InferenceState(ModelConfig config, int contextCapacity) {
        if (contextCapacity <= 0 || contextCapacity > config.contextLength()) {
            throw new IllegalArgumentException("context capacity " + contextCapacity + " must be in [1, "
                    + config.contextLength() + "]");
        }
        this.config = config;
        this.cache = new KvCache(config, contextCapacity);
        this.scores = new float[config.heads()][contextCapacity];
        this.tokens = new int[contextCapacity];
    }

    public KvCache cache() {
        return cache;
    }

    /** Tokens evaluated so far (positions in the cache). */
    public int position() {
        return cache.length();
    }

    /** The tokens whose keys and values are cached, in order. */
    public int[] tokens() {
        return java.util.Arrays.copyOf(tokens, cache.length());
    }

    /**
     * Keeps the longest cached prefix shared with {@code prompt} and forgets the rest, so only the new suffix needs
     * evaluating — a chat's next turn re-evaluates just the new messages. At least one prompt token is always left
     * to evaluate, since its logits are what the next token is sampled from. Returns the number of positions kept.
     */
    public int keepCommonPrefix(int[] prompt) {
        int limit = Math.min(cache.length(), prompt.length - 1);
        int common = 0;
        while (common < limit && tokens[common] == prompt[common]) {
            common++;
        }
        cache.truncate(common);
        return common;
    }

    /** Forgets the whole sequence. */
    public void reset() {
        cache.truncate(0);
    }

    void record(int[] newTokens) {
        System.arraycopy(newTokens, 0, tokens, cache.length(), newTokens.length);
    }

    void ensureBatch(int n, int logitRows) {
        if (n > batchCapacity) {
            batchCapacity = n;
            x = new float[n * config.dim()];
            xb = new float[n * config.dim()];
            q = new float[n * config.qDim()];
            k = new float[n * config.kvDim()];
            v = new float[n * config.kvDim()];
            att = new float[n * config.qDim()];
            proj = new float[n * config.dim()];
            hidden = new float[n * config.hiddenDim()];
            up = new float[n * config.hiddenDim()];
        }
        long logitsSize = (long) logitRows * config.vocabSize();
        if (logits == null || logits.length < logitsSize) {
            logits = new float[Math.toIntExact(logitsSize)];
        }
    }
}
