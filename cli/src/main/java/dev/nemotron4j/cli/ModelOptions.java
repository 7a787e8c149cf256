package dev.nemotron4j.cli;

import dev.nemotron4j.generate.Engine;
import dev.nemotron4j.hub.HfHub;
import dev.nemotron4j.hub.ModelName;
import dev.nemotron4j.model.LoadOptions;
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

    @Option(names = "--quantize", defaultValue = "none",
            description = "quantize F32/F16/BF16 matrices on load: none, q8_0 or q4_0 (default: ${DEFAULT-VALUE})")
    String quantize;

    @Option(names = "--no-pack", description = "use Q4_0/Q4_1/Q8_0/Q4_K/Q6_K matrices straight from the mapped file "
            + "instead of repacking them on load for the faster decode kernels (quicker load, slower decode)")
    boolean noPack;

    Engine load() {
        return Engine.load(resolve(model), contextSize, loadOptions(quantize, noPack));
    }

    static LoadOptions loadOptions(String quantize, boolean noPack) {
        return LoadOptions.quantize(LoadOptions.Quantize.parse(quantize)).withPack(!noPack);
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
