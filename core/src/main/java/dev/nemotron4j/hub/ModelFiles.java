package dev.nemotron4j.hub;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.TreeSet;

/**
 * Which files of a repository the engine needs: config and tokenizer files, then the weights (safetensors, or PyTorch
 * .bin files when there are no safetensors). NeMo archives, ONNX exports, GGUF files, files in sub-folders and other
 * extras are left on the server.
 */
final class ModelFiles {
    static final String CONFIG = "config.json";
    static final String SAFETENSORS_INDEX = "model.safetensors.index.json";
    static final String BIN_INDEX = "pytorch_model.bin.index.json";

    private static final List<String> SUPPORT = List.of(CONFIG, "generation_config.json", "tokenizer.json",
            "tokenizer.model", "tokenizer_config.json", "special_tokens_map.json");
    private static final ObjectMapper JSON = new ObjectMapper();

    /**
     * What to fetch, in order. Weights come last so that a snapshot holding its weights is a finished download.
     *
     * @param support config and tokenizer files, plus the weights index when there is one
     * @param index   the weights index naming the shards to fetch, or null: then fetch every file of {@code weights}
     * @param weights the repository's weight files of the chosen format
     */
    record Plan(List<String> support, String index, List<String> weights) {
    }

    private ModelFiles() {
    }

    static Plan plan(ModelName model, Collection<String> siblings) {
        List<String> root = siblings.stream().filter(f -> !f.contains("/")).sorted().toList();
        List<String> safetensors = root.stream().filter(f -> f.endsWith(".safetensors")).toList();
        List<String> bins = root.stream().filter(f -> f.startsWith("pytorch_model") && f.endsWith(".bin")).toList();
        boolean useSafetensors = !safetensors.isEmpty();
        List<String> weights = useSafetensors ? safetensors : bins;
        String index = useSafetensors ? SAFETENSORS_INDEX : BIN_INDEX;
        if (weights.isEmpty()) {
            List<String> ggufs = siblings.stream().filter(f -> f.toLowerCase(Locale.ROOT).endsWith(".gguf")).sorted().toList();
            throw new HubException(ggufs.isEmpty()
                    ? "model " + model + " has no safetensors or PyTorch weights that nemotron4j can load"
                    : "model " + model + " holds only GGUF files (" + String.join(", ", ggufs)
                            + "): download the one you want and pass its path with --model");
        }
        if (!root.contains(CONFIG)) {
            throw new HubException("model " + model + " has no config.json: it is not a Transformers model nemotron4j can load");
        }
        List<String> support = new ArrayList<>(SUPPORT.stream().filter(root::contains).toList());
        if (root.contains(index)) {
            support.add(index);
            return new Plan(support, index, weights);
        }
        return new Plan(support, null, weights);
    }

    /** The shards a downloaded weights index names; each must be one of the repository's weight files. */
    static List<String> shards(ModelName model, Path indexFile, List<String> weights) {
        List<String> shards = readShards(indexFile);
        if (shards == null || shards.isEmpty()) {
            throw new HubException("model " + model + " has an unreadable " + indexFile.getFileName()
                    + ": the repository is broken, use a local copy instead");
        }
        for (String shard : shards) {
            if (!weights.contains(shard)) {
                throw new HubException("model " + model + " lists weight file " + shard + " in "
                        + indexFile.getFileName() + " but the repository has no such file");
            }
        }
        return shards;
    }

    /**
     * Whether a snapshot folder holds a loadable model: config.json plus every shard its index names, or a weights
     * file when there is no index. Works for snapshots written by huggingface_hub too.
     */
    static boolean isComplete(Path snapshot) {
        if (!Files.isRegularFile(snapshot.resolve(CONFIG))) {
            return false;
        }
        for (String index : List.of(SAFETENSORS_INDEX, BIN_INDEX)) {
            Path indexFile = snapshot.resolve(index);
            if (Files.isRegularFile(indexFile)) {
                List<String> shards = readShards(indexFile);
                return shards != null && !shards.isEmpty()
                        && shards.stream().allMatch(s -> Files.isRegularFile(snapshot.resolve(s)));
            }
        }
        try (DirectoryStream<Path> files = Files.newDirectoryStream(snapshot, "{*.safetensors,pytorch_model*.bin}")) {
            for (Path file : files) {
                if (Files.isRegularFile(file)) {
                    return true;
                }
            }
            return false;
        } catch (IOException e) {
            return false;
        }
    }

    // Returns null when the index cannot be read or names a shard outside the model folder.
    private static List<String> readShards(Path indexFile) {
        try {
            JsonNode map = JSON.readTree(indexFile.toFile()).path("weight_map");
            TreeSet<String> shards = new TreeSet<>();
            for (JsonNode value : map) {
                String shard = value.asText("");
                if (shard.isEmpty() || shard.contains("/") || shard.contains("\\") || shard.startsWith(".")) {
                    return null;
                }
                shards.add(shard);
            }
            return List.copyOf(shards);
        } catch (IOException e) {
            return null;
        }
    }
}
