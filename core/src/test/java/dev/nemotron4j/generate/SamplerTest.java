package dev.nemotron4j.generate;

import dev.nemotron4j.InvalidInputException;
import org.junit.jupiter.api.Test;

import java.util.HashSet;
import java.util.Random;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SamplerTest {
    private static float[] randomLogits(int n, long seed) {
        Random r = new Random(seed);
        float[] l = new float[n];
        for (int i = 0; i < n; i++) {
            l[i] = (float) r.nextGaussian() * 3;
        }
        return l;
    }

    @Test
    void greedyTakesArgmax() {
        float[] logits = {0.1f, 2f, -1f, 1.9f};
        assertEquals(1, new Sampler(SamplingParams.GREEDY, 4).sample(logits, 0, new int[0], 0));
    }

    @Test
    void sameSeedSameTokens() {
        float[] logits = randomLogits(1000, 1);
        SamplingParams p = SamplingParams.builder().temperature(1.2f).topP(0.95f).seed(42).build();
        int[] a = new int[50];
        int[] b = new int[50];
        Sampler s1 = new Sampler(p, 1000);
        Sampler s2 = new Sampler(p, 1000);
        for (int i = 0; i < 50; i++) {
            a[i] = s1.sample(logits, 0, a, i);
            b[i] = s2.sample(logits, 0, b, i);
        }
        assertArrayEquals(a, b);
        Sampler other = new Sampler(p.toBuilder().seed(43).build(), 1000);
        int[] c = new int[50];
        for (int i = 0; i < 50; i++) {
            c[i] = other.sample(logits, 0, c, i);
        }
        assertTrue(!java.util.Arrays.equals(a, c));
    }

    @Test
    void topKRestrictsToTheKBest() {
        float[] logits = randomLogits(500, 2);
        int[] best = Sampler.topIndices(logits, 0, 500, 3);
        Set<Integer> allowed = Set.of(best[0], best[1], best[2]);
        Sampler s = new Sampler(SamplingParams.builder().temperature(5f).topK(3).seed(1).build(), 500);
        Set<Integer> seen = new HashSet<>();
        for (int i = 0; i < 300; i++) {
            seen.add(s.sample(logits, 0, new int[0], 0));
        }
        assertEquals(allowed, seen);
    }

    @Test
    void topPAndMinPCutTheTail() {
        float[] logits = {10f, 9.9f, 0f, 0f, 0f};
        Sampler topP = new Sampler(SamplingParams.builder().temperature(1f).topP(0.5f).seed(3).build(), 5);
        Sampler minP = new Sampler(SamplingParams.builder().temperature(1f).minP(0.5f).seed(3).build(), 5);
        for (int i = 0; i < 200; i++) {
            assertEquals(0, topP.sample(logits, 0, new int[0], 0));
            assertTrue(minP.sample(logits, 0, new int[0], 0) <= 1);
        }
    }

    @Test
    void repetitionPenaltyChangesGreedyChoice() {
        float[] logits = {3f, 2.5f, 0f};
        Sampler s = new Sampler(SamplingParams.builder().repetitionPenalty(1.5f).build(), 3);
        assertEquals(1, s.sample(logits, 0, new int[] {0}, 1));
        Sampler f = new Sampler(SamplingParams.builder().frequencyPenalty(0.3f).build(), 3);
        assertEquals(1, f.sample(logits, 0, new int[] {0, 0}, 2));
    }

    @Test
    void logprobsAreNormalisedAndSorted() {
        float[] logits = randomLogits(100, 4);
        TokenLogprob lp = new Sampler(SamplingParams.GREEDY, 100).logprob(logits, 0, 7, 5);
        assertEquals(5, lp.top().size());
        assertEquals(Sampler.argmax(logits), lp.top().get(0).token());
        for (int i = 1; i < 5; i++) {
            assertTrue(lp.top().get(i - 1).logprob() >= lp.top().get(i).logprob());
        }
        double total = 0;
        for (float l : logits) {
            total += Math.exp(l - logits[7] + lp.logprob());
        }
        assertEquals(1.0, total, 1e-4);
    }

    @Test
    void invalidSettingsAreRejected() {
        assertThrows(InvalidInputException.class, () -> SamplingParams.builder().temperature(-1).build());
        assertThrows(InvalidInputException.class, () -> SamplingParams.builder().topP(0f).build());
        assertThrows(InvalidInputException.class, () -> SamplingParams.builder().topP(1.5f).build());
        assertThrows(InvalidInputException.class, () -> SamplingParams.builder().topK(-2).build());
    }
}
