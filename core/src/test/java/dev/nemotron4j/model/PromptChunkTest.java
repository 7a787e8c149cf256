package dev.nemotron4j.model;

import dev.nemotron4j.Golden;
import dev.nemotron4j.model.synth.SynthShape;
import dev.nemotron4j.model.synth.SynthType;
import dev.nemotron4j.model.synth.SyntheticModel;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A prompt longer than {@link Transformer#PROMPT_CHUNK} is evaluated in chunks with the same result as in one pass. Heads
 * of 64 take the block attention path (with AVX-512 and with AVX2) for the chunks, past the chunk boundary too.
 */
class PromptChunkTest {
    @TempDir
    Path dir;

    /** A small f32 model of nemotron's architecture with heads of 64, written to {@code file}. */
    static Path heads64(Path file, int seed) {
        SynthShape shape = new SynthShape("heads-64", "nemotron", "heads of 64", 256, 512, 2, 4, 2, 64, 32, 512,
                1024, 1e-5f, 10000f, 2, 3, 1, 0);
        new SyntheticModel(shape, SynthType.F32, seed).write(file, (done, total) -> { });
        return file;
    }

    @Test
    void chunkedPromptGivesTheLogitsOfOnePass() {
        Path file = heads64(dir.resolve("tiny.gguf"), 5);
        int[] prompt = new int[Transformer.PROMPT_CHUNK + 72];
        for (int i = 0; i < prompt.length; i++) {
            prompt[i] = 4 + (i * 31) % 400;
        }
        try (Model m = Model.load(file)) {
            int vocab = m.config().vocabSize();
            InferenceState whole = m.newState(prompt.length + 1);
            float[] all = m.transformer().forward(whole, prompt, true);
            float[] expected = Arrays.copyOfRange(all, (prompt.length - 1) * vocab, prompt.length * vocab);

            InferenceState chunked = m.newState(prompt.length + 1);
            float[] last = m.transformer().forward(chunked, prompt, false);
            float diff = Golden.maxAbsDiff(Arrays.copyOf(last, vocab), expected, vocab);
            assertTrue(diff < 1e-4, "last logits differ by " + diff);
            assertArrayEquals(whole.tokens(), chunked.tokens());

            float[] nextWhole = m.transformer().forward(whole, new int[] {9}, false).clone();
            float[] nextChunked = m.transformer().forward(chunked, new int[] {9}, false);
            assertTrue(Golden.maxAbsDiff(nextChunked, nextWhole, vocab) < 1e-4, "the caches differ");
        }
    }
}
