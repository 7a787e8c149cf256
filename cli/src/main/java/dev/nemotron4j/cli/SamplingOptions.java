package dev.nemotron4j.cli;

import dev.nemotron4j.generate.GenerationOptions;
import dev.nemotron4j.generate.SamplingParams;
import picocli.CommandLine.Option;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/** Sampling and stopping options shared by the commands that generate text; defaults follow llama.cpp. */
final class SamplingOptions {
    @Option(names = "--max-tokens", defaultValue = "256", description = "most tokens to generate (default ${DEFAULT-VALUE})")
    int maxTokens;

    @Option(names = "--temperature", defaultValue = "0.8", description = "0 = greedy (default ${DEFAULT-VALUE})")
    float temperature;

    @Option(names = "--top-k", defaultValue = "40", description = "0 = off (default ${DEFAULT-VALUE})")
    int topK;

    @Option(names = "--top-p", defaultValue = "0.95", description = "nucleus sampling, in (0, 1] (default ${DEFAULT-VALUE})")
    float topP;

    @Option(names = "--min-p", defaultValue = "0.05", description = "0 = off (default ${DEFAULT-VALUE})")
    float minP;

    @Option(names = "--repeat-penalty", defaultValue = "1.0", description = "1 = off (default ${DEFAULT-VALUE})")
    float repeatPenalty;

    @Option(names = "--presence-penalty", defaultValue = "0", description = "in [-2, 2] (default ${DEFAULT-VALUE})")
    float presencePenalty;

    @Option(names = "--frequency-penalty", defaultValue = "0", description = "in [-2, 2] (default ${DEFAULT-VALUE})")
    float frequencyPenalty;

    @Option(names = "--seed", description = "random seed; the same seed and settings give the same text (default: random)")
    Long seed;

    @Option(names = "--stop", description = "stop when this text appears (repeatable)")
    List<String> stops = new ArrayList<>();

    GenerationOptions toOptions() {
        SamplingParams sampling = SamplingParams.builder()
                .temperature(temperature).topK(topK).topP(topP).minP(minP)
                .repetitionPenalty(repeatPenalty).presencePenalty(presencePenalty).frequencyPenalty(frequencyPenalty)
                .seed(seed != null ? seed : System.nanoTime())
                .build();
        return new GenerationOptions(sampling, maxTokens, stops, Set.of());
    }
}
