package dev.nemotron4j.model;

import dev.nemotron4j.InvalidInputException;

import java.nio.file.Path;
import java.util.Locale;

/**
 * How {@link Model#load(java.nio.file.Path, LoadOptions)} prepares the weights, and how its sequences cache keys and
 * values.
 *
 * @param quantize the format float (F32/F16/BF16) matrices are quantized to while loading; quantized files and the
 *                 norm vectors are left as they are
 * @param pack        whether Q4_0, Q4_1, Q8_0, Q4_K and Q6_K matrices are repacked for the integer decode kernels
 *                    ({@link dev.nemotron4j.tensor.PackedTensor}); off, they are used straight from the mapped file
 * @param weightCache a directory where the matrices quantized or packed on load are saved, one file per model and
 *                    options, for later loads to map instead of making them again; null for none
 * @param kvCache     how the KV cache of every sequence stores keys and values: f32, or f16 in half the memory
 */
public record LoadOptions(Quantize quantize, boolean pack, Path weightCache, KvCache.Type kvCache) {
    public static final LoadOptions DEFAULT = new LoadOptions(Quantize.NONE, true, null, KvCache.Type.F32);

    public enum Quantize {
        NONE, Q8_0, Q4_0;

        /** {@code none}, {@code q8_0} or {@code q4_0}, in any case. */
        public static Quantize parse(String name) {
            try {
                return valueOf(name.toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw new InvalidInputException("unknown quantization '" + name + "' (expected none, q8_0 or q4_0)");
            }
        }
    }

    public LoadOptions {
        if (quantize == null || kvCache == null) {
            throw new IllegalArgumentException("quantize and kvCache must not be null");
        }
    }

    public static LoadOptions quantize(Quantize quantize) {
        return new LoadOptions(quantize, true, null, KvCache.Type.F32);
    }

    public LoadOptions withPack(boolean pack) {
        return new LoadOptions(quantize, pack, weightCache, kvCache);
    }

    public LoadOptions withWeightCache(Path dir) {
        return new LoadOptions(quantize, pack, dir, kvCache);
    }

    public LoadOptions withKvCache(KvCache.Type type) {
        return new LoadOptions(quantize, pack, weightCache, type);
    }

    /** {@code $XDG_CACHE_HOME/nemotron4j/weights}, or {@code ~/.cache/nemotron4j/weights}. */
    public static Path defaultWeightCache() {
        String xdg = System.getenv("XDG_CACHE_HOME");
        Path base = xdg != null && !xdg.isBlank() ? Path.of(xdg) : Path.of(System.getProperty("user.home"), ".cache");
        return base.resolve("nemotron4j").resolve("weights");
    }
}
