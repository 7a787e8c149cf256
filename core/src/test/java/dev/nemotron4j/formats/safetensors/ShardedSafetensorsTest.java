package dev.nemotron4j.formats.safetensors;

import dev.nemotron4j.formats.ModelFormatException;
import dev.nemotron4j.formats.TensorEntry;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static dev.nemotron4j.formats.FormatTestSupport.assertFails;
import static dev.nemotron4j.formats.FormatTestSupport.golden;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

class ShardedSafetensorsTest {
    @TempDir
    Path tmp;

    @Test
    void shardsHoldTheSameBytesAsTheSingleFile() {
        for (String model : new String[] {"tiny-nemotron", "tiny-mistral"}) {
            Path dir = golden().resolve(model);
            try (SafetensorsFile single = SafetensorsFile.open(dir.resolve("hf/model.safetensors"));
                 ShardedSafetensors sharded = ShardedSafetensors.open(
                         dir.resolve("hf-sharded/model.safetensors.index.json"))) {
                assertEquals(2, sharded.shards().size());
                assertEquals(single.tensors().keySet(), sharded.tensors().keySet());
                for (TensorEntry t : single.tensors().values()) {
                    TensorEntry s = sharded.tensor(t.name());
                    assertEquals(t.type(), s.type());
                    assertArrayEquals(t.shape(), s.shape());
                    assertEquals(-1, t.data().mismatch(s.data()), t.name());
                }
            }
        }
    }

    @Test
    void missingShardIsNamed() throws IOException {
        Path src = golden().resolve("tiny-nemotron/hf-sharded");
        Files.copy(src.resolve("model.safetensors.index.json"), tmp.resolve("model.safetensors.index.json"));
        Files.copy(src.resolve("model-00001-of-00002.safetensors"), tmp.resolve("model-00001-of-00002.safetensors"));
        assertFails(ModelFormatException.class, () -> ShardedSafetensors.open(tmp.resolve("model.safetensors.index.json")),
                "model-00002-of-00002.safetensors", "does not exist");
    }

    @Test
    void tensorAbsentFromItsShard() throws IOException {
        Path src = golden().resolve("tiny-nemotron/hf-sharded");
        Files.copy(src.resolve("model-00001-of-00002.safetensors"), tmp.resolve("a.safetensors"));
        Files.writeString(tmp.resolve("index.json"), "{\"weight_map\": {\"model.embed_tokens.weight\": \"a.safetensors\","
                + " \"lm_head.weight\": \"a.safetensors\"}}");
        assertFails(ModelFormatException.class, () -> ShardedSafetensors.open(tmp.resolve("index.json")),
                "'lm_head.weight'", "missing from its shard");
    }

    @Test
    void badIndex() throws IOException {
        Files.writeString(tmp.resolve("index.json"), "{\"metadata\": {}}");
        assertFails(ModelFormatException.class, () -> ShardedSafetensors.open(tmp.resolve("index.json")), "weight_map");
        Files.writeString(tmp.resolve("index.json"), "{\"weight_map\": {\"w\": \"../x.safetensors\"}}");
        assertFails(ModelFormatException.class, () -> ShardedSafetensors.open(tmp.resolve("index.json")),
                "invalid shard file");
        Files.writeString(tmp.resolve("index.json"), "{\"weight_map\": ");
        assertFails(ModelFormatException.class, () -> ShardedSafetensors.open(tmp.resolve("index.json")),
                "not a valid index JSON");
        assertFails(ModelFormatException.class, () -> ShardedSafetensors.open(tmp.resolve("none.json")), "not found");
    }
}
