package dev.nemotron4j.generate;

import dev.nemotron4j.InvalidInputException;

/**
 * How the next token is chosen. Temperature 0 means greedy (argmax). Penalties follow the usual conventions:
 * {@code repetitionPenalty} divides positive / multiplies negative logits of tokens seen in the last
 * {@code penaltyWindow} tokens (1 = off); presence / frequency penalties subtract as in the OpenAI API.
 *
 * @param seed       random seed; the same seed and settings give the same tokens
 * @param topLogprobs number of alternatives to report with each token's log-probability (0 = none, -1 = not even
 *                    the chosen token's)
 */
public record SamplingParams(
        float temperature,
        int topK,
        float topP,
        float minP,
        float repetitionPenalty,
        float presencePenalty,
        float frequencyPenalty,
        int penaltyWindow,
        long seed,
        int topLogprobs) {

    public static final SamplingParams GREEDY = builder().build();

    public SamplingParams {
        if (!(temperature >= 0f) || Float.isInfinite(temperature)) {
            throw new InvalidInputException("temperature must be >= 0, got " + temperature);
        }
        if (topK < 0) {
            throw new InvalidInputException("top-k must be >= 0 (0 disables it), got " + topK);
        }
        if (!(topP > 0f && topP <= 1f)) {
            throw new InvalidInputException("top-p must be in (0, 1], got " + topP);
        }
        if (!(minP >= 0f && minP <= 1f)) {
            throw new InvalidInputException("min-p must be in [0, 1], got " + minP);
        }
        if (!(repetitionPenalty > 0f) || Float.isInfinite(repetitionPenalty)) {
            throw new InvalidInputException("repetition penalty must be > 0, got " + repetitionPenalty);
        }
        if (!(presencePenalty >= -2f && presencePenalty <= 2f)) {
            throw new InvalidInputException("presence penalty must be in [-2, 2], got " + presencePenalty);
        }
        if (!(frequencyPenalty >= -2f && frequencyPenalty <= 2f)) {
            throw new InvalidInputException("frequency penalty must be in [-2, 2], got " + frequencyPenalty);
        }
        if (penaltyWindow < 0) {
            throw new InvalidInputException("penalty window must be >= 0, got " + penaltyWindow);
        }
        if (topLogprobs < -1 || topLogprobs > 20) {
            throw new InvalidInputException("top logprobs must be between 0 and 20, got " + topLogprobs);
        }
    }

    public boolean greedy() {
        return temperature == 0f;
    }

    public static Builder builder() {
        return new Builder();
    }

    public Builder toBuilder() {
        Builder b = new Builder();
        b.temperature = temperature;
        b.topK = topK;
        b.topP = topP;
        b.minP = minP;
        b.repetitionPenalty = repetitionPenalty;
        b.presencePenalty = presencePenalty;
        b.frequencyPenalty = frequencyPenalty;
        b.penaltyWindow = penaltyWindow;
        b.seed = seed;
        b.topLogprobs = topLogprobs;
        return b;
    }

    /** Starts from greedy decoding; each setter is validated when {@link #build()} is called. */
    public static final class Builder {
        private float temperature;
        private int topK;
        private float topP = 1f;
        private float minP;
        private float repetitionPenalty = 1f;
        private float presencePenalty;
        private float frequencyPenalty;
        private int penaltyWindow = 64;
        private long seed;
        private int topLogprobs = -1;

        public Builder temperature(float v) {
            temperature = v;
            return this;
        }

        public Builder topK(int v) {
            topK = v;
            return this;
        }

        public Builder topP(float v) {
            topP = v;
            return this;
        }

        public Builder minP(float v) {
            minP = v;
            return this;
        }

        public Builder repetitionPenalty(float v) {
            repetitionPenalty = v;
            return this;
        }

        public Builder presencePenalty(float v) {
            presencePenalty = v;
            return this;
        }

        public Builder frequencyPenalty(float v) {
            frequencyPenalty = v;
            return this;
        }

        public Builder penaltyWindow(int v) {
            penaltyWindow = v;
            return this;
        }

        public Builder seed(long v) {
            seed = v;
            return this;
        }

        public Builder topLogprobs(int v) {
            topLogprobs = v;
            return this;
        }

        public SamplingParams build() {
            return new SamplingParams(temperature, topK, topP, minP, repetitionPenalty, presencePenalty,
                    frequencyPenalty, penaltyWindow, seed, topLogprobs);
        }
    }
}
