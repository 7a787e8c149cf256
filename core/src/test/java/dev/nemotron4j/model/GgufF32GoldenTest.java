package dev.nemotron4j.model;

import dev.nemotron4j.Golden;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class GgufF32GoldenTest {

    @ParameterizedTest
    @ValueSource(strings = {"tiny-nemotron", "tiny-mistral", "tiny-nemotron-k256"})
    void promptLogitsMatchNumpy(String model) {
        try (Model m = Model.load(Golden.gguf(model, "f32"))) {
            for (String seq : new String[] {"A", "B"}) {
                int[] tokens = Golden.tokens(model, seq);
                float[] expected = Golden.floats(Golden.reference(model, "numpy-seq" + seq + ".f32"));
                InferenceState state = m.newState(tokens.length);
                float[] logits = m.transformer().forward(state, tokens, true);
                float diff = Golden.maxAbsDiff(logits, expected, expected.length);
                assertTrue(diff < 1e-4, model + " seq " + seq + " max abs diff " + diff);
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"tiny-nemotron", "tiny-mistral", "tiny-nemotron-k256"})
    void greedyTokensMatchNumpy(String model) {
        try (Model m = Model.load(Golden.gguf(model, "f32"))) {
            int[] prompt = Golden.tokens(model, "A");
            int[] expected = Golden.ids(Golden.read(Golden.reference(model, "numpy-greedy.txt")));
            int vocab = m.config().vocabSize();
            InferenceState state = m.newState(prompt.length + expected.length);
            float[] logits = m.transformer().forward(state, prompt, false);
            int[] got = new int[expected.length];
            for (int i = 0; i < got.length; i++) {
                got[i] = Golden.argmax(logits, 0, vocab);
                logits = m.transformer().forward(state, new int[] {got[i]}, false);
            }
            assertArrayEquals(expected, got, Arrays.toString(got));
        }
    }
}
