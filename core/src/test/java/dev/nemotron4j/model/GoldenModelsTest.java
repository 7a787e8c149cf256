package dev.nemotron4j.model;

import dev.nemotron4j.Golden;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every golden model variant (HF f32/bf16/sharded/pickle, GGUF of every type) against the reference logits with the
 * tolerances of shared/golden/README.md, both with the prompt in one pass and token by token through the KV cache.
 */
class GoldenModelsTest {
    private static final String[] MODELS = {"tiny-nemotron", "tiny-mistral", "tiny-nemotron-k256"};
    private static final String[] GGUF_TYPES = {"f32", "f16", "q8_0", "q4_0", "q4_k", "q6_k"};

    /** A model path, the reference it must match (a file name prefix in reference/), and the tolerance. */
    record Variant(String model, Path path, String reference, float tolerance) {
        /** Greedy continuation of sequence A from the same reference implementation, where one exists. */
        Path greedyReference() {
            String name = reference.equals("numpy") ? "numpy-greedy.txt" : reference + "-greedy.txt";
            return Golden.reference(model, name);
        }

        @Override
        public String toString() {
            return model + "/" + path.getParent().getFileName() + "/" + path.getFileName();
        }
    }

    static Stream<Arguments> variants() {
        List<Arguments> out = new ArrayList<>();
        for (String model : MODELS) {
            Path dir = Golden.golden(model);
            addIfPresent(out, new Variant(model, dir.resolve("hf"), "numpy", 1e-4f));
            addIfPresent(out, new Variant(model, dir.resolve("hf-sharded"), "numpy", 1e-4f));
            addIfPresent(out, new Variant(model, dir.resolve("hf-bf16"), "numpy-bf16weights", 1e-4f));
            addIfPresent(out, new Variant(model, dir.resolve("hf-pt"), "numpy-bf16weights", 1e-4f));
            addIfPresent(out, new Variant(model, dir.resolve("hf-pt/pytorch_model.bin"), "numpy-bf16weights", 1e-4f));
            for (String type : GGUF_TYPES) {
                // An engine that dequantizes and computes in f32 must match the numpy forward over dequantized weights.
                String ref = type.equals("f32") ? "numpy" : "numpy-dequant-" + type;
                addIfPresent(out, new Variant(model, Golden.gguf(model, type), ref, 2e-4f));
            }
        }
        return out.stream();
    }

    private static void addIfPresent(List<Arguments> out, Variant v) {
        if (Files.exists(v.path())) {
            out.add(Arguments.of(v));
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("variants")
    void logitsMatchReference(Variant v) {
        // The references are float math over the dequantized weights: compared with the mapped weights and float
        // kernels. Packed matrices (8-bit activations; packed where a row holds a whole group of blocks, which on
        // 256-bit vectors includes these tiny models' wider rows) are compared with llama.cpp below.
        try (Model m = Model.load(v.path(), LoadOptions.DEFAULT.withPack(false))) {
            int vocab = m.config().vocabSize();
            for (String seq : new String[] {"A", "B"}) {
                int[] tokens = Golden.tokens(v.model(), seq);
                float[] expected = Golden.floats(Golden.reference(v.model(), v.reference() + "-seq" + seq + ".f32"));

                float[] batch = m.transformer().forward(m.newState(tokens.length), tokens, true);
                float diff = Golden.maxAbsDiff(batch, expected, expected.length);
                assertTrue(diff < v.tolerance(), v + " seq " + seq + " one pass: max abs diff " + diff);

                InferenceState state = m.newState(tokens.length);
                for (int t = 0; t < tokens.length; t++) {
                    float[] row = m.transformer().forward(state, new int[] {tokens[t]}, false);
                    float[] expectedRow = java.util.Arrays.copyOfRange(expected, t * vocab, (t + 1) * vocab);
                    float rowDiff = Golden.maxAbsDiff(row, expectedRow, vocab);
                    assertTrue(rowDiff < v.tolerance(), v + " seq " + seq + " incremental pos " + t + ": " + rowDiff);
                }
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("variants")
    void greedyTokensMatchReference(Variant v) {
        if (!Files.exists(v.greedyReference())) {
            return;
        }
        int[] expected = Golden.ids(Golden.read(v.greedyReference()));
        try (Model m = Model.load(v.path(), LoadOptions.DEFAULT.withPack(false))) {
            int[] prompt = Golden.tokens(v.model(), "A");
            InferenceState state = m.newState(prompt.length + expected.length);
            float[] logits = m.transformer().forward(state, prompt, false);
            int[] got = new int[expected.length];
            for (int i = 0; i < got.length; i++) {
                got[i] = Golden.argmax(logits, 0, m.config().vocabSize());
                logits = m.transformer().forward(state, new int[] {got[i]}, false);
            }
            assertArrayEquals(expected, got, v + " greedy " + java.util.Arrays.toString(got));
        }
    }

    /** llama.cpp quantizes activations too, so it is compared with the looser bounds of the golden README. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("ggufVsLlamaCpp")
    void quantizedLogitsAgreeWithLlamaCpp(String model, String type) {
        try (Model m = Model.load(Golden.gguf(model, type))) {
            int vocab = m.config().vocabSize();
            int[] tokens = Golden.tokens(model, "B");
            float[] expected = Golden.floats(Golden.reference(model, "llamacpp-" + type + "-seqB.f32"));
            float[] got = m.transformer().forward(m.newState(tokens.length), tokens, true);
            double sum = 0;
            int agree = 0;
            for (int i = 0; i < expected.length; i++) {
                sum += Math.abs(got[i] - expected[i]);
            }
            for (int t = 0; t < tokens.length; t++) {
                agree += Golden.argmax(got, t * vocab, vocab) == Golden.argmax(expected, t * vocab, vocab) ? 1 : 0;
            }
            float maxAbs = Golden.maxAbsDiff(got, expected, expected.length);
            float bound = type.equals("f32") ? 1e-4f : type.equals("f16") ? 0.05f : 0.5f;
            assertTrue(maxAbs < bound, model + " " + type + " max abs vs llama.cpp " + maxAbs);
            assertTrue(sum / expected.length < 0.06, model + " " + type + " mean abs " + sum / expected.length);
            assertTrue(agree >= 0.9 * tokens.length, model + " " + type + " argmax agreement " + agree);
        }
    }

    static Stream<Arguments> ggufVsLlamaCpp() {
        List<Arguments> out = new ArrayList<>();
        for (String model : MODELS) {
            for (String type : GGUF_TYPES) {
                out.add(Arguments.of(model, type));
            }
        }
        return out.stream();
    }
}
