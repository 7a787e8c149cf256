package dev.nemotron4j.cli;

import dev.nemotron4j.model.KvCache;
import dev.nemotron4j.model.LoadOptions;
import dev.nemotron4j.model.Model;
import dev.nemotron4j.model.WeightCacheStatus;
import picocli.CommandLine.Option;

import java.io.PrintStream;
import java.nio.file.Path;

/** How the commands that load a model prepare its weights. */
final class LoadFlags {
    @Option(names = "--quantize", defaultValue = "none",
            description = "quantize F32/F16/BF16 matrices on load: none, q8_0 or q4_0 (default: ${DEFAULT-VALUE})")
    String quantize;

    @Option(names = "--no-pack", description = "use Q4_0/Q4_1/Q8_0/Q4_K/Q6_K matrices straight from the mapped file "
            + "instead of repacking them on load for the faster decode kernels (quicker load, slower decode)")
    boolean noPack;

    @Option(names = "--weight-cache", paramLabel = "DIR",
            description = "where matrices packed or quantized on load are saved for later loads to map "
                    + "(default: $XDG_CACHE_HOME/nemotron4j/weights or ~/.cache/nemotron4j/weights)")
    Path weightCache;

    @Option(names = "--no-weight-cache", description = "pack or quantize on every load and save nothing")
    boolean noWeightCache;

    @Option(names = "--kv-cache", defaultValue = "f32", description = "how sequences cache keys and values: f32, or "
            + "f16 in half the memory and with half the reads per decoded token at long contexts (default: "
            + "${DEFAULT-VALUE})")
    String kvCache;

    LoadOptions options() {
        LoadOptions options = LoadOptions.quantize(LoadOptions.Quantize.parse(quantize)).withPack(!noPack)
                .withKvCache(KvCache.Type.parse(kvCache));
        if (noWeightCache) {
            return options;
        }
        return options.withWeightCache(weightCache != null ? weightCache : LoadOptions.defaultWeightCache());
    }

    /** One line on what the load did with the weight cache, unless there was nothing to say. */
    static void report(Model model, PrintStream err) {
        WeightCacheStatus status = model.weightCache();
        if (status.state() != WeightCacheStatus.State.OFF) {
            err.println("nemotron4j: " + status.detail());
        }
    }
}
