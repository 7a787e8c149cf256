package dev.nemotron4j.cli;

import dev.nemotron4j.generate.Engine;
import picocli.CommandLine.Option;

import java.nio.file.Path;

/** How the commands that run a model name it and size its context. */
final class ModelOptions {
    @Option(names = "--model", required = true,
            description = "GGUF file, HF model directory, or a weights file in one")
    String model;

    @Option(names = "--ctx", defaultValue = "0", description = "context size in tokens (default: the model's)")
    int contextSize;

    Engine load() {
        return Engine.load(Path.of(model), contextSize);
    }
}
