package dev.nemotron4j.formats.hf;

import com.fasterxml.jackson.databind.JsonNode;
import dev.nemotron4j.formats.ModelFile;
import dev.nemotron4j.formats.ModelFormatException;
import dev.nemotron4j.formats.ShardedModelFile;
import dev.nemotron4j.formats.TensorEntry;
import dev.nemotron4j.formats.pytorch.PyTorchCheckpoint;
import dev.nemotron4j.formats.safetensors.SafetensorsFile;
import dev.nemotron4j.formats.safetensors.ShardedSafetensors;
import dev.nemotron4j.tensor.GGMLType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static dev.nemotron4j.formats.FormatTestSupport.assertFails;
import static dev.nemotron4j.formats.FormatTestSupport.golden;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

class HfCheckpointTest {
    @TempDir
    Path tmp;

    @Test
    void opensEveryGoldenHfFolder() throws IOException {
        Map<String, Class<?>> kinds = Map.of("hf", SafetensorsFile.class, "hf-bf16", SafetensorsFile.class,
                "hf-sharded", ShardedSafetensors.class, "hf-pt", PyTorchCheckpoint.class);
        List<Path> dirs;
        try (Stream<Path> models = Files.list(golden())) {
            dirs = models.filter(Files::isDirectory).flatMap(m -> kinds.keySet().stream().map(m::resolve))
                    .filter(Files::isDirectory).sorted().toList();
        }
        for (Path dir : dirs) {
            JsonNode config = HfCheckpoint.readConfig(dir);
            int hidden = config.get("hidden_size").asInt();
            int vocab = config.get("vocab_size").asInt();
            try (ModelFile weights = HfCheckpoint.openWeights(dir)) {
                assertInstanceOf(kinds.get(dir.getFileName().toString()), weights, dir.toString());
                TensorEntry embed = weights.tensor("model.embed_tokens.weight");
                assertArrayEquals(new long[] {vocab, hidden}, embed.shape(), dir.toString());
                GGMLType expected = config.path("torch_dtype").asText().equals("bfloat16") ? GGMLType.BF16 : GGMLType.F32;
                assertEquals(expected, embed.type(), dir.toString());
                TensorEntry q = weights.tensor("model.layers.0.self_attn.q_proj.weight");
                assertEquals(hidden, q.shape()[1], dir.toString());
            }
        }
        assertTrue(dirs.size() >= 8, "golden hf folders found: " + dirs);
    }

    @Test
    void shardedPickleIndex() throws IOException {
        Files.copy(golden().resolve("tiny-nemotron/hf-pt/pytorch_model.bin"), tmp.resolve("pytorch_model-00001-of-00001.bin"));
        Files.writeString(tmp.resolve("pytorch_model.bin.index.json"), "{\"weight_map\": {\"lm_head.weight\":"
                + " \"pytorch_model-00001-of-00001.bin\", \"model.norm.weight\": \"pytorch_model-00001-of-00001.bin\"}}");
        try (ModelFile weights = HfCheckpoint.openWeights(tmp)) {
            ShardedModelFile sharded = assertInstanceOf(ShardedModelFile.class, weights);
            assertEquals(List.of("lm_head.weight", "model.norm.weight"), List.copyOf(sharded.tensors().keySet()));
            assertEquals(1, sharded.shards().size());
            assertEquals(GGMLType.BF16, sharded.tensor("lm_head.weight").type());
        }
    }

    @Test
    void folderWithoutWeightsListsWhatWasLookedFor() throws IOException {
        Files.writeString(tmp.resolve("config.json"), "{}");
        assertFails(ModelFormatException.class, () -> HfCheckpoint.openWeights(tmp), tmp.toString(), "model.safetensors",
                "model.safetensors.index.json", "pytorch_model.bin", "pytorch_model.bin.index.json");
    }

    @Test
    void pathsThatDoNotExist() throws IOException {
        Path missing = tmp.resolve("no-such-model");
        assertFails(ModelFormatException.class, () -> HfCheckpoint.openWeights(missing), "not found", missing.toString());
        assertFails(ModelFormatException.class, () -> HfCheckpoint.readConfig(missing), "not found");
        Path file = Files.writeString(tmp.resolve("file"), "x");
        assertFails(ModelFormatException.class, () -> HfCheckpoint.openWeights(file), "not a folder");
    }

    @Test
    void configErrors() throws IOException {
        assertFails(ModelFormatException.class, () -> HfCheckpoint.readConfig(tmp), "no config.json");
        Files.writeString(tmp.resolve("config.json"), "{\"hidden_size\": 64,");
        assertFails(ModelFormatException.class, () -> HfCheckpoint.readConfig(tmp), "config.json", "not valid JSON");
        Files.writeString(tmp.resolve("config.json"), "[]");
        assertFails(ModelFormatException.class, () -> HfCheckpoint.readConfig(tmp), "not a JSON object");
    }
}
