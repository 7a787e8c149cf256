package dev.nemotron4j.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.nemotron4j.InvalidInputException;
import dev.nemotron4j.formats.TensorEntry;
import dev.nemotron4j.kernels.Parallel;
import dev.nemotron4j.model.InferenceState;
import dev.nemotron4j.model.Model;
import dev.nemotron4j.model.ModelConfig;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.DoubleAdder;
import java.util.function.DoubleSupplier;

@Command(name = "bench", mixinStandardHelpOptions = true,
        description = "Measure prompt (pp) and decode (tg) throughput like llama-bench: random tokens, warm-up "
                + "excluded, median of repetitions; also load time, resident memory, and memory-read bandwidth "
                + "with the fraction of it decoding achieves.")
final class BenchCommand implements Callable<Integer> {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    /** Tokens evaluated before the timed decode steps, so attention is not over an empty cache. */
    private static final int DECODE_PROMPT = 8;
    /**
     * Tokens of the untimed warm-up prompt at most: as many as the timed prompt up to this, so that it takes the same
     * kernels, which would otherwise be compiled during the first timed run (a prompt of 16 tokens takes the decode
     * kernels four tokens at a time, one of 32 or more the integer prompt product).
     */
    private static final int WARM_UP_PROMPT_MAX = 128;
    private static final long PROBE_BYTES = 1L << 30;

    @Option(names = "--model", required = true, description = "GGUF file or HF model directory")
    Path model;

    @Mixin
    LoadFlags loadFlags;

    @Option(names = "--threads", description = "worker threads (default: all cores)")
    Integer threads;

    @Option(names = "--pp", defaultValue = "512", description = "prompt tokens evaluated in one pass (default: ${DEFAULT-VALUE})")
    int pp;

    @Option(names = "--tg", defaultValue = "128", description = "tokens decoded one at a time (default: ${DEFAULT-VALUE})")
    int tg;

    @Option(names = "--depth", defaultValue = "0", description = "tokens already in the cache before each test, like "
            + "llama-bench's -d: decode and prompt speed at that context length (default: ${DEFAULT-VALUE})")
    int depth;

    @Option(names = "--reps", defaultValue = "3", description = "repetitions; the median is reported (default: ${DEFAULT-VALUE})")
    int reps;

    @Option(names = "--json", description = "print one JSON object")
    boolean json;

    @Override
    public Integer call() {
        validateOptions();
        if (threads != null) {
            Parallel.setThreads(threads);
        }
        long t0 = System.nanoTime();
        try (Model m = Model.load(model, loadFlags.options())) {
            double loadSeconds = (System.nanoTime() - t0) / 1e9;
            ModelConfig c = m.config();
            int capacity = depth + Math.max(pp, decodePrefix() + tg);
            if (capacity > c.contextLength()) {
                throw new InvalidInputException("depth " + depth + " plus pp " + pp + ", or plus " + decodePrefix()
                        + " + tg " + tg + ", must fit the context length " + c.contextLength());
            }
            SplittableRandom rng = new SplittableRandom(1234);
            // One sequence for every run, cut back in between, so the heap holds one KV cache and one set of buffers.
            InferenceState s = m.newState(Math.max(capacity, warmUpPrompt() + 2));
            m.awaitWeightCache(); // a cache being written would share the cores with the timed runs
            warmUp(m, s, rng);
            s.reset();
            if (depth > 0) {
                m.transformer().forward(s, randomTokens(m, rng, depth), false);
            }
            double ppTokS = pp > 0 ? median(reps, () -> promptRun(m, s, rng)) : 0;
            double tgTokS = tg > 0 ? median(reps, () -> decodeRun(m, s, rng)) : 0;
            double rssMb = residentMegabytes();
            long bytesPerToken = m.transformer().weights().bytesPerToken();
            double bandwidth = memoryBandwidth();
            double fraction = bytesPerToken * tgTokS / (bandwidth * 1e9);
            report(m, loadSeconds, ppTokS, tgTokS, rssMb, bytesPerToken, bandwidth, fraction);
        }
        return 0;
    }

    private void validateOptions() {
        if (threads != null && threads < 1) {
            throw new InvalidInputException("--threads must be at least 1, got " + threads);
        }
        if (pp < 0 || tg < 0 || pp + tg == 0) {
            throw new InvalidInputException("--pp and --tg must be non-negative and not both 0");
        }
        if (depth < 0) {
            throw new InvalidInputException("--depth must be non-negative, got " + depth);
        }
        if (reps < 1) {
            throw new InvalidInputException("--reps must be at least 1, got " + reps);
        }
    }

    private int warmUpPrompt() {
        return pp > 0 ? Math.min(pp, WARM_UP_PROMPT_MAX) : DECODE_PROMPT;
    }

    /** Pages the weights in and compiles the kernels for batched and single-token passes; not timed. */
    private void warmUp(Model m, InferenceState s, SplittableRandom rng) {
        s.reset();
        m.transformer().forward(s, randomTokens(m, rng, warmUpPrompt()), false);
        for (int i = 0; i < 2; i++) {
            m.transformer().forward(s, randomTokens(m, rng, 1), false);
        }
    }

    /** Tokens evaluated, untimed, before the decode steps: the depth, or a few tokens into an empty sequence. */
    private int decodePrefix() {
        return depth > 0 ? 0 : DECODE_PROMPT;
    }

    /** Tokens per second of one pass over {@code pp} random tokens after the {@code depth} cached ones. */
    private double promptRun(Model m, InferenceState s, SplittableRandom rng) {
        s.cache().truncate(depth);
        int[] tokens = randomTokens(m, rng, pp);
        long start = System.nanoTime();
        m.transformer().forward(s, tokens, false);
        return pp / ((System.nanoTime() - start) / 1e9);
    }

    /** Tokens per second of {@code tg} single-token steps after the cached depth (or a short untimed prompt). */
    private double decodeRun(Model m, InferenceState s, SplittableRandom rng) {
        s.cache().truncate(depth);
        if (decodePrefix() > 0) {
            m.transformer().forward(s, randomTokens(m, rng, decodePrefix()), false);
        }
        int[] tokens = randomTokens(m, rng, tg);
        int[] next = new int[1];
        long start = System.nanoTime();
        for (int token : tokens) {
            next[0] = token;
            m.transformer().forward(s, next, false);
        }
        return tg / ((System.nanoTime() - start) / 1e9);
    }

    private static int[] randomTokens(Model m, SplittableRandom rng, int n) {
        return rng.ints(n, 0, m.config().vocabSize()).toArray();
    }

    private static double median(int reps, DoubleSupplier run) {
        double[] v = new double[reps];
        for (int i = 0; i < reps; i++) {
            v[i] = run.getAsDouble();
        }
        Arrays.sort(v);
        return reps % 2 == 1 ? v[reps / 2] : (v[reps / 2 - 1] + v[reps / 2]) / 2;
    }

    private static double residentMegabytes() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("VmRSS:")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", "")) / 1024.0;
                }
            }
            return Double.NaN;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read /proc/self/status: " + e.getMessage(), e);
        }
    }

    /**
     * Read bandwidth in GB/s: the worker threads sum disjoint slices of a 1 GiB off-heap buffer (far larger than any
     * cache) with the Vector API; best of five passes.
     */
    private static double memoryBandwidth() {
        try (Arena arena = Arena.ofShared()) {
            MemorySegment buffer = arena.allocate(PROBE_BYTES, 64);
            buffer.fill((byte) 1);
            int slices = Parallel.threads() * 16;
            long sliceBytes = PROBE_BYTES / slices;
            double best = 0;
            DoubleAdder sink = new DoubleAdder();
            for (int pass = 0; pass < 5; pass++) {
                long start = System.nanoTime();
                Parallel.forRange(slices, 1, (from, to) -> {
                    for (int s = from; s < to; s++) {
                        sink.add(sum(buffer, s * sliceBytes, sliceBytes));
                    }
                });
                best = Math.max(best, PROBE_BYTES / ((System.nanoTime() - start) / 1e9) / 1e9);
            }
            // The sums are kept so the reads cannot be optimised away; 1.4e-45 per float is never NaN.
            if (Double.isNaN(sink.sum())) {
                throw new IllegalStateException("bandwidth probe read NaN");
            }
            return best;
        }
    }

    private static float sum(MemorySegment m, long offset, long bytes) {
        FloatVector a0 = FloatVector.zero(F);
        FloatVector a1 = FloatVector.zero(F);
        long step = F.vectorByteSize();
        long end = offset + bytes;
        for (long o = offset; o + 2 * step <= end; o += 2 * step) {
            a0 = a0.add(FloatVector.fromMemorySegment(F, m, o, ByteOrder.LITTLE_ENDIAN));
            a1 = a1.add(FloatVector.fromMemorySegment(F, m, o + step, ByteOrder.LITTLE_ENDIAN));
        }
        return a0.add(a1).reduceLanes(VectorOperators.ADD);
    }

    private void report(Model m, double loadSeconds, double ppTokS, double tgTokS, double rssMb, long bytesPerToken,
                        double bandwidth, double fraction) {
        TreeMap<String, Long> types = new TreeMap<>();
        for (TensorEntry t : m.file().tensors().values()) {
            types.merge(t.type().name(), t.data().byteSize(), Long::sum);
        }
        String mainType = types.entrySet().stream().max(Map.Entry.comparingByValue()).orElseThrow().getKey();
        if (json) {
            ObjectNode o = new ObjectMapper().createObjectNode();
            o.put("model", model.toString());
            o.put("arch", m.config().architecture());
            o.put("type", mainType.toLowerCase(Locale.ROOT));
            o.put("layers", m.config().layers());
            o.put("params", m.parameterCount());
            o.put("threads", Parallel.threads());
            o.put("pp", pp);
            o.put("tg", tg);
            o.put("depth", depth);
            o.put("reps", reps);
            o.put("pp_tok_s", round(ppTokS));
            o.put("tg_tok_s", round(tgTokS));
            o.put("load_s", round(loadSeconds));
            o.put("weight_cache", m.weightCache().state().name().toLowerCase(Locale.ROOT));
            o.put("rss_mb", round(rssMb));
            o.put("weight_mb_per_token", round(bytesPerToken / 1e6));
            o.put("membw_gbs", round(bandwidth));
            o.put("tg_bw_fraction", round(fraction));
            System.out.println(o);
            return;
        }
        System.out.printf(Locale.ROOT, "model       %s (%s, %s, %d layers, %,d params)%n", model,
                m.config().architecture(), mainType, m.config().layers(), m.parameterCount());
        System.out.printf(Locale.ROOT, "threads     %d%n", Parallel.threads());
        System.out.printf(Locale.ROOT, "load        %.2f s (weight cache: %s)%n", loadSeconds,
                m.weightCache().detail());
        System.out.printf(Locale.ROOT, "rss         %.0f MB%n", rssMb);
        System.out.printf(Locale.ROOT, "%-16s  %12s%n", "test", "tok/s");
        String at = depth > 0 ? " @ d" + depth : "";
        System.out.printf(Locale.ROOT, "%-16s  %12.2f%n", "pp" + pp + at, ppTokS);
        System.out.printf(Locale.ROOT, "%-16s  %12.2f%n", "tg" + tg + at, tgTokS);
        System.out.printf(Locale.ROOT, "memory bw   %.1f GB/s (probe); decode reads %.1f MB/token = %.1f GB/s, "
                + "%.0f%% of the probe%n", bandwidth, bytesPerToken / 1e6, bytesPerToken * tgTokS / 1e9,
                100 * fraction);
    }

    private static double round(double v) {
        return Math.round(v * 1000) / 1000.0;
    }
}
