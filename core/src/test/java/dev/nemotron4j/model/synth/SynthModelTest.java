package dev.nemotron4j.model.synth;

import dev.nemotron4j.InvalidInputException;
import dev.nemotron4j.formats.TensorEntry;
import dev.nemotron4j.formats.gguf.GGUFFile;
import dev.nemotron4j.model.InferenceState;
import dev.nemotron4j.model.Model;
import dev.nemotron4j.tensor.GGMLType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SynthModelTest {
    private static final int[] TOKENS = {1, 5, 9, 100, 42, 7};

    @TempDir
    Path tmp;

    private Path write(SynthShape shape, SynthType type, long seed) {
        Path path = tmp.resolve(shape.name() + "-" + type.cliName() + "-" + seed + ".gguf");
        long[] last = {-1, -1};
        new SyntheticModel(shape, type, seed).write(path, (done, total) -> {
            assertTrue(done > last[0] && done <= total);
            last[0] = done;
            last[1] = total;
        });
        assertEquals(last[1], last[0], "progress must end at the total");
        return path;
    }

    private static float[] logits(Path path) {
        try (Model m = Model.load(path)) {
            InferenceState s = m.newState(TOKENS.length);
            float[] logits = m.transformer().forward(s, TOKENS, true);
            return Arrays.copyOf(logits, TOKENS.length * m.config().vocabSize());
        }
    }

    @ParameterizedTest
    @EnumSource(SynthType.class)
    void tinyFilesLoadAndGiveFiniteSpreadLogits(SynthType type) {
        for (SynthShape shape : new SynthShape[] {SynthShape.TINY_NEMOTRON, SynthShape.TINY_LLAMA}) {
            float[] logits = logits(write(shape, type, 7));
            float min = Float.MAX_VALUE;
            float max = -Float.MAX_VALUE;
            for (float v : logits) {
                assertTrue(Float.isFinite(v), shape.name() + " " + type + " logit " + v);
                min = Math.min(min, v);
                max = Math.max(max, v);
            }
            assertTrue(max - min > 2, shape.name() + " " + type + ": logits should not be flat, spread " + (max - min));
        }
    }

    @Test
    void sameSeedSameBytesOtherSeedOtherWeights() throws IOException {
        Path a = write(SynthShape.TINY_NEMOTRON, SynthType.Q8_0, 1);
        Path b = tmp.resolve("again.gguf");
        new SyntheticModel(SynthShape.TINY_NEMOTRON, SynthType.Q8_0, 1).write(b, (d, t) -> { });
        assertArrayEquals(Files.readAllBytes(a), Files.readAllBytes(b));
        assertFalse(Arrays.equals(logits(a), logits(write(SynthShape.TINY_NEMOTRON, SynthType.Q8_0, 2))));
    }

    @Test
    void metadataAsLlamaCppExpectsForNemotron() {
        try (GGUFFile f = GGUFFile.open(write(SynthShape.TINY_NEMOTRON, SynthType.Q4_0, 0))) {
            assertEquals("nemotron", f.getString("general.architecture"));
            assertEquals(2, f.getInt("general.file_type"));
            assertEquals(2, f.getInt("general.quantization_version"));
            assertEquals(32, f.getInt("general.alignment"));
            assertEquals(8, f.getInt("nemotron.rope.dimension_count"));
            assertEquals(16, f.getInt("nemotron.attention.key_length"));
            assertEquals(1e-5f, f.getFloat("nemotron.attention.layer_norm_epsilon"));
            assertEquals("none", f.getString("nemotron.rope.scaling.type"));
            assertEquals("llama", f.getString("tokenizer.ggml.model"));
            String[] tokens = f.getStringArray("tokenizer.ggml.tokens");
            assertEquals(512, tokens.length);
            assertEquals(512, f.getFloatArray("tokenizer.ggml.scores").length);
            assertArrayEquals(new String[] {"<pad>", "<unk>", "<s>", "</s>", "<0x00>"}, Arrays.copyOf(tokens, 5));
            assertEquals("<0xFF>", tokens[259]);
            assertEquals("\u2581a", tokens[260]);
            assertEquals("\u2581w127", tokens[511]);
            assertEquals(2, f.getInt("tokenizer.ggml.bos_token_id"));
            assertEquals(3, f.getInt("tokenizer.ggml.eos_token_id"));
            assertEquals(1, f.getInt("tokenizer.ggml.unknown_token_id"));
            assertEquals(0, f.getInt("tokenizer.ggml.padding_token_id"));
            Map<String, TensorEntry> t = f.tensors();
            assertEquals(GGMLType.F32, t.get("blk.1.ffn_norm.bias").type());
            assertEquals(GGMLType.Q4_0, t.get("output.weight").type());
            assertArrayEquals(new long[] {32, 64}, t.get("blk.0.attn_k.weight").shape());
            assertArrayEquals(new long[] {64, 192}, t.get("blk.0.ffn_down.weight").shape());
            assertFalse(t.containsKey("blk.0.ffn_gate.weight"));
        }
    }

    @Test
    void llamaVocabularyAndGate() {
        try (GGUFFile f = GGUFFile.open(write(SynthShape.TINY_LLAMA, SynthType.F16, 0))) {
            assertEquals("llama", f.getString("general.architecture"));
            assertArrayEquals(new String[] {"<unk>", "<s>", "</s>", "<0x00>"},
                    Arrays.copyOf(f.getStringArray("tokenizer.ggml.tokens"), 4));
            assertEquals(1, f.getInt("tokenizer.ggml.bos_token_id"));
            assertFalse(f.has("tokenizer.ggml.padding_token_id"));
            assertFalse(f.has("llama.attention.layer_norm_epsilon"));
            assertEquals(GGMLType.F16, f.tensors().get("blk.1.ffn_gate.weight").type());
            assertFalse(f.tensors().containsKey("output_norm.bias"));
        }
    }

    @Test
    void q4kFallsBackToQ4_0ForRowsNotMultipleOf256() {
        SynthShape wide = new SynthShape("wide", "nemotron", "wide", 256, 512, 1, 4, 2, 64, 32, 512, 64, 1e-5f,
                1e4f, 2, 3, 1, 0);
        try (GGUFFile f = GGUFFile.open(write(wide, SynthType.Q4_K, 0))) {
            assertEquals(GGMLType.Q4_K, f.tensors().get("blk.0.ffn_down.weight").type());
            assertEquals(GGMLType.Q4_K, f.tensors().get("output.weight").type());
        }
        try (GGUFFile f = GGUFFile.open(write(SynthShape.TINY_NEMOTRON, SynthType.Q4_K, 0))) {
            assertEquals(GGMLType.Q4_0, f.tensors().get("blk.0.attn_q.weight").type());
            assertEquals(14, f.getInt("general.file_type"));
        }
    }

    /** For 32 layers, llama-quantize's use_more_bits picks layers 0-3, 6, 9, …, 27 and 28-31. */
    @Test
    void q4kmRaisesOutputAndSomeAttnVAndFfnDownToQ6_K() {
        List<SyntheticModel.TensorSpec> specs = SyntheticModel.layout(SynthShape.NEMOTRON_MINI_4B, SynthType.Q4_K_M);
        Map<String, GGMLType> types = new HashMap<>();
        specs.forEach(t -> types.put(t.name(), t.type()));
        assertEquals(GGMLType.Q6_K, types.get("output.weight"));
        assertEquals(GGMLType.Q4_K, types.get("token_embd.weight"));
        for (int l = 0; l < 32; l++) {
            boolean raised = l < 4 || l >= 28 || (l - 4) % 3 == 2;
            GGMLType expected = raised ? GGMLType.Q6_K : GGMLType.Q4_K;
            assertEquals(expected, types.get("blk." + l + ".attn_v.weight"), "layer " + l);
            assertEquals(expected, types.get("blk." + l + ".ffn_down.weight"), "layer " + l);
            assertEquals(GGMLType.Q4_K, types.get("blk." + l + ".ffn_up.weight"), "layer " + l);
        }
    }

    @Test
    void realShapesHaveTheRealParameterCounts() {
        // specs A.3
        assertEquals(4_190_509_056L, new SyntheticModel(SynthShape.NEMOTRON_MINI_4B, SynthType.F16, 0).parameterCount());
        assertEquals(8_414_105_600L, new SyntheticModel(SynthShape.MINITRON_8B, SynthType.F16, 0).parameterCount());
        SyntheticModel two = new SyntheticModel(SynthShape.NEMOTRON_MINI_4B.withLayers(2), SynthType.Q4_0, 0);
        assertEquals(2L * 786_432_000 + 2 * 81_801_216 + 6144, two.parameterCount());
        long matrices = 2L * 786_432_000 + 2 * (81_801_216 - 12_288);
        assertEquals(matrices / 32 * 18 + (2 * 12_288 + 6144) * 4L, two.tensorBytes());
        assertEquals(2 + 2 * 10 + 2, two.tensors().size());
        SyntheticModel minitron = new SyntheticModel(SynthShape.MINITRON_8B, SynthType.Q4_K, 0);
        assertTrue(minitron.tensors().stream().filter(t -> t.rows() > 1).allMatch(t -> t.type() == GGMLType.Q4_K));
    }

    @Test
    void badOptionsAreTypedErrors() {
        assertThrows(InvalidInputException.class, () -> SynthShape.preset("nemotron-9b"));
        assertThrows(InvalidInputException.class, () -> SynthType.parse("q3_k"));
        assertThrows(InvalidInputException.class, () -> SynthShape.TINY_LLAMA.withLayers(0));
        SyntheticModel m = new SyntheticModel(SynthShape.TINY_LLAMA, SynthType.F32, 0);
        assertThrows(InvalidInputException.class, () -> m.write(tmp.resolve("missing/dir/x.gguf"), (d, t) -> { }));
        assertThrows(InvalidInputException.class, () -> m.write(tmp, (d, t) -> { }));
    }
}
