package dev.nemotron4j.model;

import com.fasterxml.jackson.databind.JsonNode;
import dev.nemotron4j.formats.MappedFile;
import dev.nemotron4j.formats.ModelFile;
import dev.nemotron4j.formats.ModelFormatException;
import dev.nemotron4j.formats.gguf.GGUFFile;
import dev.nemotron4j.formats.hf.HfCheckpoint;

import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A loaded model: its config, its weights (views of the mapped files) and the forward pass over them. Shared by any
 * number of sequences and threads; {@link #close()} unmaps the files once nothing uses the model any more.
 */
public final class Model implements AutoCloseable {
    private final ModelFile file;
    private final Architecture architecture;
    private final ModelConfig config;
    private final Transformer transformer;
    private final JsonNode hfConfig;
    /** Memory of the matrices quantized or packed on load (or mapped from the weight cache), freed with the model. */
    private final Arena arena = Arena.ofShared();
    private final WeightCache cache;

    private Model(Path path, ModelFile file, Architecture architecture, ModelConfig config, TensorNames names,
                  JsonNode hfConfig, LoadOptions options) {
        this.file = file;
        this.architecture = architecture;
        this.config = config;
        this.hfConfig = hfConfig;
        this.cache = WeightCache.open(path, file, options, arena);
        try {
            this.transformer = new Transformer(config,
                    WeightLoader.load(file, config, architecture, names, options, cache, arena), options.kvCache());
            cache.finish();
        } catch (RuntimeException e) {
            cache.close();
            arena.close();
            throw e;
        }
    }

    /**
     * Loads the model a path names: a GGUF file, an HF model directory (config.json + weights), or a weights file
     * inside one.
     */
    public static Model load(Path path) {
        return load(path, LoadOptions.DEFAULT);
    }

    /** Loads like {@link #load(Path)}, quantizing or packing matrices as {@code options} say. */
    public static Model load(Path path, LoadOptions options) {
        if (!Files.exists(path)) {
            throw new ModelFormatException("model path does not exist: " + path);
        }
        if (Files.isDirectory(path)) {
            return loadHf(path, options);
        }
        if (isGguf(path)) {
            return loadGguf(path, options);
        }
        Path dir = path.toAbsolutePath().getParent();
        if (dir != null && Files.exists(dir.resolve("config.json"))) {
            return loadHf(dir, options);
        }
        throw new ModelFormatException(path + " is neither a GGUF file nor inside an HF model directory "
                + "(no config.json beside it)");
    }

    private static boolean isGguf(Path path) {
        try (MappedFile head = MappedFile.open(path)) {
            return GGUFFile.hasMagic(head.segment());
        }
    }

    private static Model loadGguf(Path path, LoadOptions options) {
        GGUFFile gguf = GGUFFile.open(path);
        try {
            Architecture arch = Architecture.forGguf(gguf.getString("general.architecture"));
            return new Model(path, gguf, arch, arch.configFromGguf(gguf), TensorNames.GGUF, null, options);
        } catch (RuntimeException e) {
            gguf.close();
            throw e;
        }
    }

    private static Model loadHf(Path dir, LoadOptions options) {
        JsonNode json = HfCheckpoint.readConfig(dir);
        Architecture arch = Architecture.forHf(json);
        ModelConfig config = arch.configFromHf(json);
        ModelFile weights = HfCheckpoint.openWeights(dir);
        try {
            return new Model(dir, weights, arch, config, TensorNames.HF, json, options);
        } catch (RuntimeException e) {
            weights.close();
            throw e;
        }
    }

    public ModelFile file() {
        return file;
    }

    public Architecture architecture() {
        return architecture;
    }

    public ModelConfig config() {
        return config;
    }

    public Transformer transformer() {
        return transformer;
    }

    /** The HF config.json this model was loaded with, or null for GGUF. */
    public JsonNode hfConfig() {
        return hfConfig;
    }

    /** A fresh sequence able to hold {@code contextCapacity} tokens. */
    public InferenceState newState(int contextCapacity) {
        return transformer.newState(contextCapacity);
    }

    /** Whether this load mapped its matrices from the weight cache, built it, or did without. */
    public WeightCacheStatus weightCache() {
        return cache.status();
    }

    /** Waits until a weight cache this load builds is written (it is written in the background), then its status. */
    public WeightCacheStatus awaitWeightCache() {
        cache.close();
        return cache.status();
    }

    public long parameterCount() {
        return file.tensors().values().stream().mapToLong(t -> t.elementCount()).sum();
    }

    @Override
    public void close() {
        cache.close();
        if (arena.scope().isAlive()) {
            arena.close();
        }
        file.close();
    }
}
