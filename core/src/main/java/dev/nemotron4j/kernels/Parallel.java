package dev.nemotron4j.kernels;

import java.util.concurrent.ForkJoinPool;
import java.util.stream.IntStream;

/**
 * Splits index ranges over a pool of worker threads: the machine's cores by default, or the count set with
 * {@link #setThreads} or the {@code nemotron4j.threads} system property.
 */
public final class Parallel {

    /** Work on the half-open index range [from, to). */
    @FunctionalInterface
    public interface RangeBody {
        void run(int from, int to);
    }

    private static volatile int threads = Math.max(1,
            Integer.getInteger("nemotron4j.threads", Runtime.getRuntime().availableProcessors()));
    private static volatile ForkJoinPool pool = new ForkJoinPool(threads);

    private Parallel() {
    }

    public static int threads() {
        return threads;
    }

    /** Runs later work on {@code n} worker threads. */
    public static synchronized void setThreads(int n) {
        if (n < 1) {
            throw new IllegalArgumentException("thread count must be at least 1, got " + n);
        }
        if (n != threads) {
            ForkJoinPool old = pool;
            pool = new ForkJoinPool(n);
            threads = n;
            old.shutdown();
        }
    }

    /**
     * Runs {@code body} over [0, n) in chunks of at least {@code grain} indices, in parallel when there is more than
     * one chunk. More chunks than threads keep cores busy when chunks take unequal time.
     */
    public static void forRange(int n, int grain, RangeBody body) {
        int t = threads;
        int chunks = Math.min(Math.max(1, n / Math.max(1, grain)), t * 4);
        if (chunks <= 1 || t == 1) {
            body.run(0, n);
            return;
        }
        // A parallel stream started inside a pool's task runs on that pool, so the thread count holds.
        pool.submit(() -> IntStream.range(0, chunks).parallel().forEach(c -> {
            int from = (int) ((long) n * c / chunks);
            int to = (int) ((long) n * (c + 1) / chunks);
            body.run(from, to);
        })).join();
    }
}
