package dev.nemotron4j.generate;

import dev.nemotron4j.InvalidInputException;
import dev.nemotron4j.model.InferenceState;
import dev.nemotron4j.model.Transformer;
import dev.nemotron4j.tokenizer.StreamingDecoder;
import dev.nemotron4j.tokenizer.Tokenizer;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.BooleanSupplier;

/**
 * The generation loop: evaluate the prompt in one pass (reusing whatever prefix the sequence already holds), then
 * sample, stream and evaluate one token at a time until a stop.
 * <pre>
 *   logits = forward(prompt)
 *   repeat: t = sample(logits); stop on EOS / stop token; emit text(t) unless it completes a stop string;
 *           stop on max tokens / full context; logits = forward([t])
 * </pre>
 */
public final class Generator {
    private final Transformer transformer;
    private final Tokenizer tokenizer;

    public Generator(Transformer transformer, Tokenizer tokenizer) {
        this.transformer = transformer;
        this.tokenizer = tokenizer;
    }

    /**
     * Generates a continuation of {@code prompt} in {@code state}. The state keeps the prompt and the generated tokens
     * (except the last one sampled, which was never evaluated), so a follow-up prompt that extends them is cheap.
     *
     * @param cancelled polled between tokens; true ends the generation with {@link FinishReason#CANCELLED}
     */
    public GenerationResult generate(InferenceState state, int[] prompt, GenerationOptions options,
                                     GenerationListener listener, BooleanSupplier cancelled) {
        if (prompt.length == 0) {
            throw new InvalidInputException("the prompt is empty");
        }
        int capacity = state.cache().capacity();
        if (prompt.length >= capacity) {
            throw new InvalidInputException("the prompt has " + prompt.length + " tokens but the context holds "
                    + capacity + " (at least one more is needed to generate)");
        }
        int vocab = transformer.config().vocabSize();
        Sampler sampler = new Sampler(options.sampling(), vocab);
        StreamingDecoder decoder = tokenizer.streamingDecoder();
        StopMatcher stops = new StopMatcher(options.stops());
        int topLogprobs = options.sampling().topLogprobs();
        List<TokenLogprob> logprobs = new ArrayList<>();

        long t0 = System.nanoTime();
        int cached = state.keepCommonPrefix(prompt);
        int[] suffix = Arrays.copyOfRange(prompt, cached, prompt.length);
        transformer.validate(state, suffix);
        float[] logits = transformer.forward(state, suffix, false);
        long t1 = System.nanoTime();

        int[] history = Arrays.copyOf(prompt, prompt.length + options.maxTokens());
        int historyLength = prompt.length;
        int generated = 0;
        StringBuilder text = new StringBuilder();
        FinishReason reason = null;
        while (reason == null) {
            if (cancelled.getAsBoolean()) {
                reason = FinishReason.CANCELLED;
                break;
            }
            int token = sampler.sample(logits, 0, history, historyLength);
            if (token == tokenizer.eos() || options.stopTokens().contains(token)) {
                reason = FinishReason.STOP;
                break;
            }
            TokenLogprob lp = topLogprobs >= 0 ? sampler.logprob(logits, 0, token, topLogprobs) : null;
            if (lp != null) {
                logprobs.add(lp);
            }
            history[historyLength++] = token;
            generated++;
            listener.onToken(token, lp);
            emit(stops.push(decoder.push(token)), text, listener);
            if (stops.stopped()) {
                reason = FinishReason.STOP;
            } else if (generated >= options.maxTokens()) {
                reason = FinishReason.LENGTH;
            } else if (state.position() >= capacity) {
                reason = FinishReason.CONTEXT_FULL;
            } else {
                logits = transformer.forward(state, new int[] {token}, false);
            }
        }
        if (!stops.stopped()) {
            emit(stops.push(decoder.flush()), text, listener);
            emit(stops.flush(), text, listener);
        }
        long t2 = System.nanoTime();
        return new GenerationResult(Arrays.copyOfRange(history, prompt.length, historyLength), text.toString(),
                reason, prompt.length, cached, (t1 - t0) / 1e6, (t2 - t1) / 1e6, List.copyOf(logprobs));
    }

    private static void emit(String piece, StringBuilder text, GenerationListener listener) {
        if (!piece.isEmpty()) {
            text.append(piece);
            listener.onText(piece);
        }
    }
}
