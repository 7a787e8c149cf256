package dev.nemotron4j.formats;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * A checkpoint split over several files, described by a Hugging Face index JSON
 * ({@code {"metadata": {...}, "weight_map": {tensor name: shard file name}}}), shard files beside the index. Each shard
 * is opened once; the tensors are the index's, in index order. Closing closes every shard.
 */
public class ShardedModelFile implements ModelFile {
    private static final ObjectMapper JSON = new ObjectMapper()
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);

    private final Path indexPath;
    private final List<ModelFile> shards;
    private final Map<String, TensorEntry> tensors;

    protected ShardedModelFile(Path indexPath, Function<Path, ModelFile> openShard) {
        this.indexPath = indexPath;
        Map<String, String> weightMap = readWeightMap(indexPath);
        Map<String, ModelFile> opened = new LinkedHashMap<>();
        shards = new ArrayList<>();
        try {
            Path dir = indexPath.toAbsolutePath().getParent();
            Map<String, TensorEntry> ts = new LinkedHashMap<>();
            for (Map.Entry<String, String> e : weightMap.entrySet()) {
                String shardName = e.getValue();
                ModelFile shard = opened.get(shardName);
                if (shard == null) {
                    Path shardPath = dir.resolve(shardName);
                    if (!Files.isRegularFile(shardPath)) {
                        throw new ModelFormatException(indexPath + ": shard file " + shardName
                                + " (holding tensor '" + e.getKey() + "') does not exist in " + dir);
                    }
                    shard = openShard.apply(shardPath);
                    opened.put(shardName, shard);
                    shards.add(shard);
                }
                TensorEntry t = shard.tensors().get(e.getKey());
                if (t == null) {
                    throw new ModelFormatException(indexPath + ": tensor '" + e.getKey() + "' is listed in the index"
                            + " but missing from its shard " + shard.path());
                }
                ts.put(e.getKey(), t);
            }
            tensors = Collections.unmodifiableMap(ts);
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    /** Opens the index at {@code indexPath}, each shard with {@code openShard}; the caller closes it. */
    public static ShardedModelFile open(Path indexPath, Function<Path, ModelFile> openShard) {
        return new ShardedModelFile(indexPath, openShard);
    }

    private static Map<String, String> readWeightMap(Path indexPath) {
        JsonNode root;
        try {
            root = JSON.readTree(Files.readAllBytes(indexPath));
        } catch (NoSuchFileException e) {
            throw new ModelFormatException("file not found: " + indexPath);
        } catch (IOException e) {
            throw new ModelFormatException(indexPath + " is not a valid index JSON: " + e.getMessage(), e);
        }
        JsonNode map = root == null ? null : root.get("weight_map");
        if (map == null || !map.isObject() || map.isEmpty()) {
            throw new ModelFormatException(indexPath + ": no \"weight_map\" object of tensor name -> shard file");
        }
        Map<String, String> weightMap = new LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> e : map.properties()) {
            String shard = e.getValue().isTextual() ? e.getValue().asText() : "";
            // A shard must be a plain file name beside the index, never a path leading elsewhere.
            if (shard.isEmpty() || shard.contains("/") || shard.contains("\\") || shard.equals("..")
                    || shard.equals(".")) {
                throw new ModelFormatException(indexPath + ": tensor '" + e.getKey() + "' maps to invalid shard file "
                        + e.getValue());
            }
            weightMap.put(e.getKey(), shard);
        }
        return weightMap;
    }

    /** The folder holding the index and its shards. */
    @Override
    public Path path() {
        return indexPath.toAbsolutePath().getParent();
    }

    public Path indexPath() {
        return indexPath;
    }

    /** The opened shard files, in the order the index first names them. */
    public List<ModelFile> shards() {
        return Collections.unmodifiableList(shards);
    }

    @Override
    public Map<String, TensorEntry> tensors() {
        return tensors;
    }

    @Override
    public void close() {
        for (ModelFile shard : shards) {
            shard.close();
        }
    }
}
