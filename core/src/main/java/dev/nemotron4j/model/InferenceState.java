package dev.nemotron4j.model;

import java.util.Arrays;

/**
 * Everything one sequence needs besides the shared weights: its KV cache, the tokens in it, and activation buffers
 * for evaluating it on its own.
 */
public final class InferenceState {
    final ModelConfig config;
    final KvCache cache;
    final ForwardBuffers buffers;
    private final int[] tokens; // the token at each cached position
    private InferenceState[] selfRows = {this}; // this state once per row of its own forward calls

    public InferenceState(ModelConfig config, int contextCapacity, KvCache.Type kvCache) {
        if (contextCapacity <= 0 || contextCapacity > config.contextLength()) {
            throw new IllegalArgumentException("context capacity " + contextCapacity + " must be in [1, "
                    + config.contextLength() + "]");
        }
        this.config = config;
        this.cache = new KvCache(config, contextCapacity, kvCache);
        this.buffers = new ForwardBuffers(config);
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
        return Arrays.copyOf(tokens, cache.length());
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

    /** An array of n references to this state, reused between calls so that decoding allocates nothing. */
    InferenceState[] rowsOfSelf(int n) {
        if (selfRows.length != n) {
            selfRows = new InferenceState[n];
            Arrays.fill(selfRows, this);
        }
        return selfRows;
    }

    /** Forgets the whole sequence. */
    public void reset() {
        cache.truncate(0);
    }

    /** Marks {@code token} as evaluated at the next position (its keys and values are in the cache). */
    void append(int token) {
        tokens[cache.length()] = token;
        cache.advance(1);
    }
}
