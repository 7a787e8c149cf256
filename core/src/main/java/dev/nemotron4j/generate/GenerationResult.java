package dev.nemotron4j.generate;

import java.util.List;

/**
 * The outcome of one generation.
 *
 * @param tokens     generated token ids (the stopping end-of-sequence token excluded)
 * @param text       generated text, without a matched stop string or control tokens
 * @param logprobs   per generated token when asked for, else empty
 * @param promptMs   time to evaluate the (uncached part of the) prompt
 * @param cachedPromptTokens prompt tokens whose evaluation was reused from the sequence's cache
 */
public record GenerationResult(
        int[] tokens,
        String text,
        FinishReason finishReason,
        int promptTokens,
        int cachedPromptTokens,
        double promptMs,
        double generateMs,
        List<TokenLogprob> logprobs) {

    public int generatedTokens() {
        return tokens.length;
    }

    /** Decode speed in tokens per second. */
    public double tokensPerSecond() {
        return generateMs > 0 ? tokens.length * 1000.0 / generateMs : 0;
    }
}
