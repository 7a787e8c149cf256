package dev.nemotron4j.generate;

import dev.nemotron4j.InvalidInputException;
import dev.nemotron4j.model.Transformer;
import dev.nemotron4j.tokenizer.StreamingDecoder;
import dev.nemotron4j.tokenizer.Tokenizer;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The token-by-token side of one generation, whoever runs the forward passes: choose the next token from a row of
 * logits, apply the stop rules (end-of-sequence and stop tokens, stop strings, max tokens, full context), and stream
 * the text that became final. {@link Generator} drives one of these for a single sequence, {@link BatchScheduler}
 * one per slot.
 */
final class Decoding {
    private final GenerationOptions options;
    private final Tokenizer tokenizer;
    private final GenerationListener listener;
    private final Sampler sampler;
    private final StreamingDecoder decoder;
    private final StopMatcher stops;
    private final StringBuilder text = new StringBuilder();
    private final List<TokenLogprob> logprobs = new ArrayList<>();
    private final int promptLength;
    private int[] history; // prompt then generated tokens; grows, since max tokens may be far above what is used
    private int historyLength;

    /**
     * The checks every generation makes before it touches a sequence: a non-empty prompt of known token ids that
     * leaves room in a context of {@code capacity} tokens for at least one generated token.
     */
    static void checkPrompt(int[] prompt, int capacity, Transformer transformer) {
        if (prompt.length == 0) {
            throw new InvalidInputException("the prompt is empty");
        }
        if (prompt.length >= capacity) {
            throw new InvalidInputException("the prompt has " + prompt.length + " tokens but the context holds "
                    + capacity + " (at least one more is needed to generate)");
        }
        transformer.checkTokenIds(prompt);
    }

    Decoding(int[] prompt, GenerationOptions options, Tokenizer tokenizer, int vocabSize, GenerationListener listener) {
        this.options = options;
        this.tokenizer = tokenizer;
        this.listener = listener;
        this.sampler = new Sampler(options.sampling(), vocabSize);
        this.decoder = tokenizer.streamingDecoder();
        this.stops = new StopMatcher(options.stops());
        this.promptLength = prompt.length;
        this.history = Arrays.copyOf(prompt, prompt.length + Math.min(options.maxTokens(), 256));
        this.historyLength = prompt.length;
    }

    /**
     * Chooses the next token from {@code logits[offset …]}. Returns why the generation ends, or null when it goes on
     * with {@link #lastToken()} to be evaluated; {@code positions} is how many tokens the sequence's cache holds.
     */
    FinishReason accept(float[] logits, int offset, int positions, int capacity) {
        int token = sampler.sample(logits, offset, history, historyLength);
        if (token == tokenizer.eos() || options.stopTokens().contains(token)) {
            return FinishReason.STOP;
        }
        int topLogprobs = options.sampling().topLogprobs();
        TokenLogprob lp = topLogprobs >= 0 ? sampler.logprob(logits, offset, token, topLogprobs) : null;
        if (lp != null) {
            logprobs.add(lp);
        }
        if (historyLength == history.length) {
            history = Arrays.copyOf(history, history.length * 2);
        }
        history[historyLength++] = token;
        listener.onToken(token, lp);
        emit(stops.push(decoder.push(token)));
        if (stops.stopped()) {
            return FinishReason.STOP;
        }
        if (generated() >= options.maxTokens()) {
            return FinishReason.LENGTH;
        }
        if (positions >= capacity) {
            return FinishReason.CONTEXT_FULL;
        }
        return null;
    }

    /** The token chosen by the last {@link #accept}. */
    int lastToken() {
        return history[historyLength - 1];
    }

    int generated() {
        return historyLength - promptLength;
    }

    /** Releases text held back as a possible stop-string start, unless a stop string ended the generation. */
    void flush() {
        if (!stops.stopped()) {
            emit(stops.push(decoder.flush()));
            emit(stops.flush());
        }
    }

    GenerationResult result(FinishReason reason, int cachedPromptTokens, double promptMs, double generateMs) {
        return new GenerationResult(Arrays.copyOfRange(history, promptLength, historyLength), text.toString(), reason,
                promptLength, cachedPromptTokens, promptMs, generateMs, List.copyOf(logprobs));
    }

    private void emit(String piece) {
        if (!piece.isEmpty()) {
            text.append(piece);
            listener.onText(piece);
        }
    }
}
