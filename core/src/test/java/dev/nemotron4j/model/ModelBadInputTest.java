package dev.nemotron4j.model;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.nemotron4j.Golden;
import dev.nemotron4j.InvalidInputException;
import dev.nemotron4j.formats.ModelFormatException;
import dev.nemotron4j.formats.TensorEntry;
import dev.nemotron4j.formats.gguf.GGUFFile;
import dev.nemotron4j.formats.gguf.GGUFWriter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.Predicate;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Model-level bad input: each case gives a typed error whose message names the problem. */
class ModelBadInputTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path tmp;

    private Path hfCopy(String model, String variant) throws IOException {
        Path dir = Files.createDirectories(tmp.resolve(variant));
        try (var files = Files.list(Golden.golden(model).resolve(variant))) {
            for (Path f : files.toList()) {
                Files.copy(f, dir.resolve(f.getFileName()));
            }
        }
        return dir;
    }

    private void editConfig(Path dir, java.util.function.Consumer<ObjectNode> edit) throws IOException {
        ObjectNode config = (ObjectNode) JSON.readTree(dir.resolve("config.json").toFile());
        edit.accept(config);
        JSON.writeValue(dir.resolve("config.json").toFile(), config);
    }

    private static void assertMessage(RuntimeException e, String... parts) {
        for (String part : parts) {
            assertTrue(e.getMessage().contains(part), "message '" + e.getMessage() + "' should mention " + part);
        }
    }

    @Test
    void shapeThatDisagreesWithConfigIsNamed() throws IOException {
        Path dir = hfCopy("tiny-nemotron", "hf");
        editConfig(dir, c -> c.put("intermediate_size", 256));
        var e = assertThrows(ModelFormatException.class, () -> Model.load(dir));
        assertMessage(e, "model.layers.0.mlp.up_proj.weight", "[192, 64]", "[256, 64]");
    }

    @Test
    void unknownHfArchitectureIsNamed() throws IOException {
        Path dir = hfCopy("tiny-mistral", "hf");
        editConfig(dir, c -> c.put("model_type", "gpt2"));
        assertMessage(assertThrows(ModelFormatException.class, () -> Model.load(dir)), "gpt2");
    }

    @Test
    void missingShardIsNamed() throws IOException {
        Path dir = hfCopy("tiny-nemotron", "hf-sharded");
        Files.delete(dir.resolve("model-00002-of-00002.safetensors"));
        assertMessage(assertThrows(ModelFormatException.class, () -> Model.load(dir)), "model-00002-of-00002");
    }

    @Test
    void missingTensorIsNamed() {
        Path out = tmp.resolve("no-output-norm.gguf");
        rewriteGguf(Golden.gguf("tiny-nemotron", "f32"), out, t -> !t.name().equals("output_norm.weight"), null);
        assertMessage(assertThrows(ModelFormatException.class, () -> Model.load(out)), "output_norm.weight");
    }

    @Test
    void unknownGgufArchitectureIsNamed() {
        Path out = tmp.resolve("falcon.gguf");
        rewriteGguf(Golden.gguf("tiny-mistral", "f32"), out, t -> true, "falcon");
        assertMessage(assertThrows(ModelFormatException.class, () -> Model.load(out)), "falcon");
    }

    @Test
    void tokensOutsideVocabularyOrContextAreRejected() {
        try (Model m = Model.load(Golden.gguf("tiny-nemotron", "q8_0"))) {
            InferenceState state = m.newState(8);
            assertMessage(assertThrows(InvalidInputException.class,
                    () -> m.transformer().forward(state, new int[] {1, 512}, false)), "512", "vocabulary");
            assertMessage(assertThrows(InvalidInputException.class,
                    () -> m.transformer().forward(state, new int[] {-1}, false)), "-1");
            assertMessage(assertThrows(InvalidInputException.class,
                    () -> m.transformer().forward(state, new int[9], false)), "context");
            assertTrue(state.position() == 0, "a rejected call must leave the sequence untouched");
            m.transformer().forward(state, new int[] {1, 2, 3}, false);
            assertMessage(assertThrows(InvalidInputException.class,
                    () -> m.transformer().forward(state, new int[6], false)), "3 already");
        }
    }

    @Test
    void pathThatIsNotAModel() throws IOException {
        Path text = Files.writeString(tmp.resolve("notes.txt"), "hello");
        assertMessage(assertThrows(ModelFormatException.class, () -> Model.load(text)), "notes.txt");
        assertMessage(assertThrows(ModelFormatException.class, () -> Model.load(tmp.resolve("absent.gguf"))),
                "absent.gguf");
    }

    /** Copies a GGUF keeping the tensors {@code keep} accepts, optionally renaming the architecture. */
    private static void rewriteGguf(Path source, Path target, Predicate<TensorEntry> keep, String architecture) {
        try (GGUFFile in = GGUFFile.open(source)) {
            GGUFWriter w = new GGUFWriter().putAll(in);
            if (architecture != null) {
                w.putString("general.architecture", architecture);
            }
            in.tensors().values().stream().filter(keep).forEach(w::addTensor);
            w.write(target);
        }
    }
}
