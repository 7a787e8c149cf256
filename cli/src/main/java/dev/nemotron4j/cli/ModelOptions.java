package dev.nemotron4j.cli;

import dev.nemotron4j.generate.Engine;
import dev.nemotron4j.hub.HfHub;
import dev.nemotron4j.hub.ModelName;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;

/** How the commands that run a model name it and size its context. */
final class ModelOptions {
    @Option(names = "--model", required = true,
            description = "GGUF file, HF model directory, a weights file in one, or a Hugging Face model name "
                    + "owner/name[@revision] (downloaded on first use into the Hugging Face cache)")
    String model;

    @Option(names = "--ctx", defaultValue = "0", description = "context size in tokens (default: the model's)")
    int contextSize;

    @Mixin
    LoadFlags loadFlags;

    Engine load() {
        Engine engine = Engine.load(resolve(model), contextSize, loadFlags.options());
        LoadFlags.report(engine.model(), System.err);
        return engine;
    }

    /** A local path for {@code model}, downloading it first when it is a Hugging Face name not yet cached. */
    static Path resolve(String model) {
        if (!ModelName.looksLikeName(model)) {
            return Path.of(model);
        }
        ProgressBar bar = new ProgressBar(System.err);
        return HfHub.fromEnvironment().resolve(model, p -> bar.update(p.file(), p.bytesDone(), p.totalBytes()));
    }
}
