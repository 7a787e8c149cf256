package dev.nemotron4j.generate;

import dev.nemotron4j.InvalidInputException;

import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Limits and stops of one generation.
 *
 * @param maxTokens  most tokens to generate
 * @param stops      strings that end the text when they appear (not included in it); may span tokens
 * @param stopTokens token ids that end the generation besides the model's end-of-sequence token
 */
public record GenerationOptions(SamplingParams sampling, int maxTokens, List<String> stops, Set<Integer> stopTokens) {

    public GenerationOptions {
        if (maxTokens <= 0) {
            throw new InvalidInputException("max tokens must be positive, got " + maxTokens);
        }
        stops = List.copyOf(stops);
        stopTokens = Set.copyOf(stopTokens);
    }

    public static GenerationOptions of(SamplingParams sampling, int maxTokens) {
        return new GenerationOptions(sampling, maxTokens, List.of(), Set.of());
    }

    public GenerationOptions withStops(List<String> extraStops, Set<Integer> extraStopTokens) {
        var s = new LinkedHashSet<>(stops);
        s.addAll(extraStops);
        var t = new HashSet<>(stopTokens);
        t.addAll(extraStopTokens);
        return new GenerationOptions(sampling, maxTokens, List.copyOf(s), t);
    }
}
