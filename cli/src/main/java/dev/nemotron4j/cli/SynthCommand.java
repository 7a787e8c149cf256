package dev.nemotron4j.cli;

import dev.nemotron4j.model.synth.SynthShape;
import dev.nemotron4j.model.synth.SynthType;
import dev.nemotron4j.model.synth.SyntheticModel;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;

@Command(name = "synth", mixinStandardHelpOptions = true,
        description = "Write a random-weight GGUF model of a real shape (for tests and benchmarks): llama.cpp's "
                + "metadata and tensor names, a synthetic SentencePiece vocabulary of the real size, deterministic "
                + "weights per seed.")
final class SynthCommand implements Callable<Integer> {

    @Option(names = "--arch", required = true,
            description = "nemotron-mini-4b, minitron-8b, tiny-nemotron or tiny-llama")
    String arch;

    @Option(names = "--type", required = true, description = "f32, f16, bf16, q8_0, q4_0, q4_k, q4_k_m, q5_k or q5_k_m")
    String type;

    @Option(names = "--out", required = true, description = "GGUF file to write")
    Path out;

    @Option(names = "--layers", description = "number of layers (default: the real model's)")
    Integer layers;

    @Option(names = "--seed", defaultValue = "0", description = "random seed (default: ${DEFAULT-VALUE})")
    long seed;

    @Override
    public Integer call() {
        SynthShape shape = SynthShape.preset(arch);
        if (layers != null) {
            shape = shape.withLayers(layers);
        }
        SyntheticModel model = new SyntheticModel(shape, SynthType.parse(type), seed);
        ProgressBar bar = new ProgressBar(System.err);
        String label = "synth " + out.getFileName();
        model.write(out, (done, total) -> bar.update(label, done, total));
        System.out.printf(Locale.ROOT, "%s: %s %s, %d layers, %,d parameters%n", out, shape.name(),
                model.type().cliName(), shape.layers(), model.parameterCount());
        return 0;
    }
}
