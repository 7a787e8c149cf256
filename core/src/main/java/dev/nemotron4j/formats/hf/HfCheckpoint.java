package dev.nemotron4j.formats.hf;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.nemotron4j.formats.ModelFile;
import dev.nemotron4j.formats.ModelFormatException;
import dev.nemotron4j.formats.pytorch.PyTorchCheckpoint;
import dev.nemotron4j.formats.safetensors.SafetensorsFile;
import dev.nemotron4j.formats.safetensors.ShardedSafetensors;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.function.Function;

/**
 * A Hugging Face model folder: {@code config.json} plus weights in one of the layouts {@code save_pretrained} writes,
 * tried in the order transformers prefers them: safetensors, sharded safetensors, pickle, sharded pickle.
 */
public final class HfCheckpoint {
    private static final ObjectMapper JSON = new ObjectMapper();

    private record Layout(String fileName, Function<Path, ModelFile> opener) {}

    private static final List<Layout> LAYOUTS = List.of(
            new Layout("model.safetensors", SafetensorsFile::open),
            new Layout("model.safetensors.index.json", ShardedSafetensors::open),
            new Layout("pytorch_model.bin", PyTorchCheckpoint::open),
            new Layout("pytorch_model.bin.index.json", PyTorchCheckpoint::openSharded));

    private HfCheckpoint() {}

    /** Opens the weights of the model in {@code dir}; the caller closes them. */
    public static ModelFile openWeights(Path dir) {
        requireDirectory(dir);
        for (Layout layout : LAYOUTS) {
            Path p = dir.resolve(layout.fileName());
            if (Files.isRegularFile(p)) {
                return layout.opener().apply(p);
            }
        }
        throw new ModelFormatException(dir + " holds no model weights: looked for "
                + String.join(", ", LAYOUTS.stream().map(Layout::fileName).toList()));
    }

    /** The parsed {@code config.json} of the model in {@code dir}. */
    public static JsonNode readConfig(Path dir) {
        requireDirectory(dir);
        Path config = dir.resolve("config.json");
        if (!Files.isRegularFile(config)) {
            throw new ModelFormatException(dir + " has no config.json — not a Hugging Face model folder");
        }
        JsonNode root;
        try {
            root = JSON.readTree(Files.readAllBytes(config));
        } catch (JsonProcessingException e) {
            throw new ModelFormatException(config + " is not valid JSON: " + e.getOriginalMessage(), e);
        } catch (IOException e) {
            throw new ModelFormatException("cannot read " + config + ": " + e.getMessage(), e);
        }
        if (root == null || !root.isObject()) {
            throw new ModelFormatException(config + " is not a JSON object");
        }
        return root;
    }

    private static void requireDirectory(Path dir) {
        if (!Files.isDirectory(dir)) {
            throw new ModelFormatException(Files.exists(dir) ? dir + " is not a folder" : "folder not found: " + dir);
        }
    }
}
