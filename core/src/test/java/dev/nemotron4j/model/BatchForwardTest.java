package dev.nemotron4j.model;

import dev.nemotron4j.Golden;
import org.junit.jupiter.api.Test;

import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Several sequences decoded in one batched pass give exactly what each gives alone. */
class BatchForwardTest {

    @Test
    void batchedDecodeEqualsSeparateDecode() {
        try (Model m = Model.load(Golden.gguf("tiny-mistral", "q8_0"))) {
            Transformer t = m.transformer();
            int vocab = m.config().vocabSize();
            int[] seqB = Golden.tokens("tiny-mistral", "B");
            int[][] prompts = {Arrays.copyOf(seqB, 5), Arrays.copyOfRange(seqB, 10, 30), Golden.tokens("tiny-mistral", "A")};
            InferenceState[] batched = new InferenceState[3];
            InferenceState[] alone = new InferenceState[3];
            for (int s = 0; s < 3; s++) {
                batched[s] = m.newState(64);
                alone[s] = m.newState(64);
                t.forward(batched[s], prompts[s], false);
                t.forward(alone[s], prompts[s], false);
            }
            ForwardBuffers buffers = new ForwardBuffers(m.config());
            for (int step = 0; step < 4; step++) {
                int[] next = {40 + step, 100 + step, 7 * step + 3};
                float[] logits = t.forwardBatch(buffers, batched, next).clone();
                for (int s = 0; s < 3; s++) {
                    float[] expected = t.forward(alone[s], new int[] {next[s]}, false);
                    float diff = Golden.maxAbsDiff(Arrays.copyOfRange(logits, s * vocab, (s + 1) * vocab), expected,
                            vocab);
                    assertTrue(diff < 1e-4, "sequence " + s + " step " + step + ": " + diff);
                }
            }
            assertTrue(Arrays.equals(batched[1].tokens(), alone[1].tokens()));
            assertThrows(IllegalArgumentException.class,
                    () -> t.forwardBatch(buffers, new InferenceState[] {batched[0], batched[0]}, new int[] {1, 2}));
        }
    }
}
