package dev.nemotron4j.model;

import dev.nemotron4j.Golden;
import dev.nemotron4j.InvalidInputException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A cache of half floats gives the logits of a float cache up to the rounding of keys and values to halves (2⁻¹¹
 * relative), on the golden models (heads of 16: attention a value at a time) and on a model with heads of 64 (the
 * tiles), over a chunked prompt and decoding steps.
 */
class KvCacheTypeTest {
    /** Logits of these models spread over about 10; halves of the keys and values move them by a few thousandths. */
    private static final float HALF_TOLERANCE = 0.02f;
    private static final LoadOptions HALF = LoadOptions.DEFAULT.withPack(false).withKvCache(KvCache.Type.F16);

    @TempDir
    Path dir;

    @Test
    void goldenModelsMatchTheReferenceWithinTheRounding() {
        for (String model : new String[] {"tiny-nemotron", "tiny-mistral"}) {
            try (Model m = Model.load(Golden.gguf(model, "f32"), HALF)) {
                int[] tokens = Golden.tokens(model, "A");
                float[] expected = Golden.floats(Golden.reference(model, "numpy-seqA.f32"));
                InferenceState state = m.newState(tokens.length);
                assertEquals(KvCache.Type.F16, state.cache().type());
                assertNull(state.cache.keys);
                assertNotNull(state.cache.halfKeys);
                float[] got = m.transformer().forward(state, tokens, true);
                float diff = Golden.maxAbsDiff(got, expected, expected.length);
                assertTrue(diff < HALF_TOLERANCE, model + ": max abs diff " + diff);
                assertTrue(diff > 1e-6f, model + ": no rounding at all, " + diff + " (is the cache f32?)");
            }
        }
    }

    @Test
    void tilesOfAHalfCacheMatchAFloatCache() {
        Path file = PromptChunkTest.heads64(dir.resolve("heads64.gguf"), 7);
        int[] prompt = new int[Transformer.PROMPT_CHUNK + 40];
        for (int i = 0; i < prompt.length; i++) {
            prompt[i] = 4 + (i * 37) % 400;
        }
        try (Model floats = Model.load(file, LoadOptions.DEFAULT.withPack(false));
             Model halves = Model.load(file, HALF)) {
            int vocab = floats.config().vocabSize();
            InferenceState f = floats.newState(prompt.length + 3);
            InferenceState h = halves.newState(prompt.length + 3);
            float[] expected = floats.transformer().forward(f, prompt, false).clone();
            float[] got = halves.transformer().forward(h, prompt, false);
            assertClose(expected, got, vocab, "prompt");
            for (int token : new int[] {9, 300, 17}) {
                expected = floats.transformer().forward(f, new int[] {token}, false).clone();
                got = halves.transformer().forward(h, new int[] {token}, false);
                assertClose(expected, got, vocab, "decode after " + token);
            }
            InferenceState other = new InferenceState(halves.config(), 8, KvCache.Type.F32);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> halves.transformer().forward(other, new int[] {5}, false));
            assertTrue(e.getMessage().contains("F32 KV cache"), e.getMessage());
        }
    }

    @Test
    void unknownTypesAreNamed() {
        assertEquals(KvCache.Type.F16, KvCache.Type.parse("f16"));
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> KvCache.Type.parse("q8_0"));
        assertTrue(e.getMessage().contains("f32 or f16"), e.getMessage());
    }

    private static void assertClose(float[] expected, float[] got, int vocab, String what) {
        float diff = Golden.maxAbsDiff(Arrays.copyOf(got, vocab), expected, vocab);
        assertTrue(diff < HALF_TOLERANCE && diff > 0, what + ": max abs diff " + diff);
    }
}
