package dev.nemotron4j.hub;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HubModelFilesTest {
    private static final ModelName MODEL = ModelName.parse("nvidia/Nemotron-Mini-4B-Instruct");

    @Test
    void picksConfigTokenizerAndSafetensorsOverEverythingElse() {
        ModelFiles.Plan plan = ModelFiles.plan(MODEL, List.of(".gitattributes", "README.md", "config.json",
                "generation_config.json", "model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors",
                "model.safetensors.index.json", "nemotron-mini-4b-instruct.nemo", "pytorch_model.bin",
                "special_tokens_map.json", "tokenizer.json", "tokenizer.model", "tokenizer_config.json",
                "onnx/model.onnx", "nemo/model.safetensors"));
        assertEquals(List.of("config.json", "generation_config.json", "tokenizer.json", "tokenizer.model",
                "tokenizer_config.json", "special_tokens_map.json", "model.safetensors.index.json"), plan.support());
        assertEquals("model.safetensors.index.json", plan.index());
        assertEquals(List.of("model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"), plan.weights());
    }

    @Test
    void fallsBackToPytorchBinWithoutSafetensors() {
        ModelFiles.Plan plan = ModelFiles.plan(MODEL, List.of("config.json", "pytorch_model.bin", "model.onnx"));
        assertNull(plan.index());
        assertEquals(List.of("pytorch_model.bin"), plan.weights());
    }

    @Test
    void refusesRepositoriesWithoutLoadableWeights() {
        HubException noConfig = assertThrows(HubException.class,
                () -> ModelFiles.plan(MODEL, List.of("model.safetensors")));
        assertTrue(noConfig.getMessage().contains("has no config.json"), noConfig.getMessage());
        HubException nemoOnly = assertThrows(HubException.class,
                () -> ModelFiles.plan(MODEL, List.of("config.json", "x.nemo")));
        assertEquals("model nvidia/Nemotron-Mini-4B-Instruct has no safetensors or PyTorch weights that nemotron4j "
                + "can load", nemoOnly.getMessage());
    }

    @Test
    void indexMustNameRepositoryFiles(@TempDir Path dir) throws IOException {
        Path index = Files.writeString(dir.resolve("model.safetensors.index.json"),
                "{\"weight_map\":{\"w\":\"../../escape.safetensors\"}}");
        assertThrows(HubException.class, () -> ModelFiles.shards(MODEL, index, List.of("model.safetensors")));
        Files.writeString(index, "{\"weight_map\":{\"w\":\"other.safetensors\"}}");
        HubException e = assertThrows(HubException.class,
                () -> ModelFiles.shards(MODEL, index, List.of("model.safetensors")));
        assertTrue(e.getMessage().contains("lists weight file other.safetensors"), e.getMessage());
    }

    @Test
    void snapshotIsCompleteOnceConfigAndAllShardsArePresent(@TempDir Path dir) throws IOException {
        assertFalse(ModelFiles.isComplete(dir));
        Files.writeString(dir.resolve("config.json"), "{}");
        assertFalse(ModelFiles.isComplete(dir));
        Files.writeString(dir.resolve("model.safetensors.index.json"),
                "{\"weight_map\":{\"a\":\"m-1.safetensors\",\"b\":\"m-2.safetensors\"}}");
        Files.writeString(dir.resolve("m-1.safetensors"), "1");
        assertFalse(ModelFiles.isComplete(dir));
        Files.writeString(dir.resolve("m-2.safetensors"), "2");
        assertTrue(ModelFiles.isComplete(dir));
        Files.delete(dir.resolve("m-2.safetensors"));
        Files.createSymbolicLink(dir.resolve("m-2.safetensors"), dir.resolve("missing-blob"));
        assertFalse(ModelFiles.isComplete(dir), "a dangling link is not a file");
    }
}
