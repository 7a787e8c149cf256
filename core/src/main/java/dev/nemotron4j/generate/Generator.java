package dev.nemotron4j.generate;

import dev.nemotron4j.model.InferenceState;
import dev.nemotron4j.model.Transformer;
import dev.nemotron4j.tokenizer.Tokenizer;

import java.util.Arrays;
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
        int capacity = state.cache().capacity();
        Decoding.checkPrompt(prompt, capacity, transformer);
        Decoding decoding = new Decoding(prompt, options, tokenizer, transformer.config().vocabSize(), listener);
        long t0 = System.nanoTime();
        int cached = state.keepCommonPrefix(prompt);
        int[] suffix = Arrays.copyOfRange(prompt, cached, prompt.length);
        transformer.validate(state, suffix);
        float[] logits = transformer.forward(state, suffix, false);
        long t1 = System.nanoTime();

        FinishReason reason;
        int[] next = new int[1];
        while (true) {
            if (cancelled.getAsBoolean()) {
                reason = FinishReason.CANCELLED;
                break;
            }
            reason = decoding.accept(logits, 0, state.position(), capacity);
            if (reason != null) {
                break;
            }
            next[0] = decoding.lastToken();
            logits = transformer.forward(state, next, false);
        }
        decoding.flush();
        long t2 = System.nanoTime();
        return decoding.result(reason, cached, (t1 - t0) / 1e6, (t2 - t1) / 1e6);
    }
}
