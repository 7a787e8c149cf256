package dev.nemotron4j.kernels;

import java.util.stream.IntStream;

/** Splits index ranges over the machine's cores. */
public final class Parallel {

    /** Work on the half-open index range [from, to). */
    @FunctionalInterface
    public interface RangeBody {
        void run(int from, int to);
    }

    private static final int THREADS = Runtime.getRuntime().availableProcessors();

    private Parallel() {
    }

    public static int threads() {
        return THREADS;
    }

    /**
     * Runs {@code body} over [0, n) in chunks of at least {@code grain} indices, in parallel when there is more than
     * one chunk. More chunks than threads keep cores busy when chunks take unequal time.
     */
    public static void forRange(int n, int grain, RangeBody body) {
        int chunks = Math.min(Math.max(1, n / Math.max(1, grain)), THREADS * 4);
        if (chunks <= 1 || THREADS == 1) {
            body.run(0, n);
            return;
        }
        IntStream.range(0, chunks).parallel().forEach(c -> {
            int from = (int) ((long) n * c / chunks);
            int to = (int) ((long) n * (c + 1) / chunks);
            body.run(from, to);
        });
    }
}
