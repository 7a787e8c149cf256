package dev.nemotron4j.kernels;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicIntegerArray;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ParallelTest {
    private final int defaultThreads = Parallel.threads();

    @AfterEach
    void restore() {
        Parallel.setThreads(defaultThreads);
    }

    /** Every index is visited exactly once, for many regions in a row and for every thread count. */
    @Test
    void coversEveryIndexOnce() {
        for (int threads : new int[] {1, 2, 3, 5}) {
            Parallel.setThreads(threads);
            assertEquals(threads, Parallel.threads());
            for (int round = 0; round < 2000; round++) {
                int n = 1 + round % 97;
                AtomicIntegerArray seen = new AtomicIntegerArray(n);
                Parallel.forRange(n, 1, (from, to) -> {
                    for (int i = from; i < to; i++) {
                        seen.incrementAndGet(i);
                    }
                });
                for (int i = 0; i < n; i++) {
                    assertEquals(1, seen.get(i), "threads " + threads + " n " + n + " index " + i);
                }
            }
        }
    }

    /**
     * Chunks start at 1/(2·threads) of the range and shrink with what is left, down to the grain, in whole multiples
     * of it; only the last may be shorter, when fewer indices than the grain remain.
     */
    @Test
    void chunksShrinkToTheGrain() {
        Parallel.setThreads(2);
        int n = 1000;
        int grain = 16;
        int[] sizeAt = new int[n];
        Parallel.forRange(n, grain, (from, to) -> sizeAt[from] = to - from);
        List<Integer> sizes = new ArrayList<>();
        for (int from = 0; from < n; from += sizeAt[from]) {
            assertTrue(sizeAt[from] > 0, "no chunk starts at " + from);
            assertEquals(0, from % grain, "a chunk starts between multiples of the grain: " + from);
            sizes.add(sizeAt[from]);
        }
        assertEquals(n / 4 / grain * grain, sizes.getFirst());
        for (int i = 1; i < sizes.size(); i++) {
            assertTrue(sizes.get(i) <= sizes.get(i - 1), "chunk " + i + " grew: " + sizes);
            assertTrue(sizes.get(i) >= grain || i == sizes.size() - 1, "chunk " + i + " under the grain: " + sizes);
        }
        assertEquals(grain, sizes.get(sizes.size() - 2), "the chunks before the last are the grain: " + sizes);
    }

    @Test
    void nestedRegionsRunOnTheCallingThread() {
        Parallel.setThreads(2);
        AtomicIntegerArray seen = new AtomicIntegerArray(64);
        Parallel.forRange(8, 1, (from, to) -> {
            for (int i = from; i < to; i++) {
                int outer = i;
                Parallel.forRange(8, 1, (f, t) -> {
                    for (int j = f; j < t; j++) {
                        seen.incrementAndGet(outer * 8 + j);
                    }
                });
            }
        });
        for (int i = 0; i < 64; i++) {
            assertEquals(1, seen.get(i));
        }
    }

    @Test
    void exceptionsReachTheCaller() {
        Parallel.setThreads(2);
        IllegalStateException boom = new IllegalStateException("boom");
        IllegalStateException thrown = assertThrows(IllegalStateException.class, () ->
                Parallel.forRange(100, 1, (from, to) -> {
                    if (from == 0) {
                        throw boom;
                    }
                }));
        assertSame(boom, thrown);
        int[] sum = new int[1];
        Parallel.forRange(1, 1, (from, to) -> sum[0] += to - from);
        assertEquals(1, sum[0]);
    }

    @Test
    void rejectsZeroThreads() {
        assertThrows(IllegalArgumentException.class, () -> Parallel.setThreads(0));
    }
}
