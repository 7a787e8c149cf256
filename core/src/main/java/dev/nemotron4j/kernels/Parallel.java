package dev.nemotron4j.kernels;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * Splits index ranges over a fixed pool of platform threads, one per core by default; the calling thread works too.
 * A parallel region costs microseconds: workers spin briefly for the next region before parking, chunks are claimed
 * from one atomic ticket, and nothing is allocated per region. Chunks shrink as the range runs out (guided
 * scheduling): large ones first, for long sequential reads, then ever smaller ones, so that threads finish together.
 * Regions from different callers run one at a time; a region started from inside a region runs on the calling
 * thread.
 */
public final class Parallel {

    /** Work on the half-open index range [from, to). */
    @FunctionalInterface
    public interface RangeBody {
        void run(int from, int to);
    }

    private static volatile Pool pool = new Pool(Runtime.getRuntime().availableProcessors());

    private Parallel() {
    }

    /** Threads used by parallel regions, the caller included. */
    public static int threads() {
        return pool.threads;
    }

    /** Uses {@code n} threads (the caller included) for the following regions. */
    public static synchronized void setThreads(int n) {
        if (n < 1) {
            throw new IllegalArgumentException("thread count must be at least 1, got " + n);
        }
        Pool old = pool;
        if (old.threads != n) {
            pool = new Pool(n);
            old.shutdown();
        }
    }

    /**
     * Runs {@code body} over [0, n) in chunks of at least {@code grain} indices, in parallel when there is more than
     * one chunk. Each chunk takes 1/(2·threads) of what is left, so the last ones are {@code grain} long and a thread
     * that started late or ran slower costs the others at most one such chunk of waiting. Chunks are whole multiples
     * of {@code grain} but the last, so each starts at a multiple of it (Q4_0 and Q4_K rows are packed in fours).
     */
    public static void forRange(int n, int grain, RangeBody body) {
        pool.run(n, grain, body);
    }

    private static final class Pool {
        /** How long a waiting worker spins before it parks: enough to bridge the gap between two matmuls. */
        private static final long SPIN_NANOS = 100_000;

        final int threads;
        private final Worker[] workers;
        /**
         * Region generation (high 32 bits) and how many indices are left to claim (low 32 bits): the next chunk starts
         * at n minus that.
         */
        private final AtomicLong ticket = new AtomicLong();
        /** Indices of the region whose chunks have run. */
        private final AtomicInteger done = new AtomicInteger();
        private volatile boolean shutdown;
        private RangeBody body;
        private int n;
        private int grain;
        private Throwable failure;
        private int generation;

        Pool(int threads) {
            this.threads = threads;
            workers = new Worker[threads - 1];
            for (int i = 0; i < workers.length; i++) {
                workers[i] = new Worker(this, i);
                workers[i].start();
            }
        }

        void run(int size, int minChunk, RangeBody region) {
            if (size / Math.max(1, minChunk) <= 1 || threads == 1 || Thread.currentThread() instanceof Worker
                    || Thread.holdsLock(this)) {
                region.run(0, size);
                return;
            }
            synchronized (this) {
                body = region;
                n = size;
                grain = Math.max(1, minChunk);
                failure = null;
                done.set(0);
                generation++;
                ticket.set((long) generation << 32 | size);
                for (Worker w : workers) {
                    if (w.parked) {
                        LockSupport.unpark(w);
                    }
                }
                work(generation);
                for (int spins = 0; done.get() < size; spins++) {
                    if (spins < 1 << 12) {
                        Thread.onSpinWait();
                    } else {
                        Thread.yield(); // a worker was descheduled: let it finish
                    }
                }
                body = null;
                if (failure != null) {
                    Throwable f = failure;
                    failure = null;
                    if (f instanceof RuntimeException e) {
                        throw e;
                    }
                    if (f instanceof Error e) {
                        throw e;
                    }
                    throw new IllegalStateException(f);
                }
            }
        }

        /** Claims and runs chunks of region {@code gen} until none is left. */
        void work(int gen) {
            while (true) {
                long t = ticket.get();
                int left = (int) t;
                if ((int) (t >>> 32) != gen || left == 0) {
                    return;
                }
                // grain may be the next region's by now; then the ticket has moved on and the claim fails.
                int size = Math.min(left, Math.max(grain, left / (2 * threads) / grain * grain));
                if (!ticket.compareAndSet(t, t - size)) {
                    continue;
                }
                // The fields belong to region gen: the next region cannot start before this chunk is done.
                int from = n - left;
                int to = from + size;
                try {
                    body.run(from, to);
                } catch (Throwable e) {
                    failure = e;
                }
                done.addAndGet(to - from);
            }
        }

        void shutdown() {
            shutdown = true;
            for (Worker w : workers) {
                LockSupport.unpark(w);
            }
        }
    }

    private static final class Worker extends Thread {
        private final Pool pool;
        volatile boolean parked;

        Worker(Pool pool, int index) {
            super("nemotron4j-worker-" + index);
            this.pool = pool;
            setDaemon(true);
        }

        @Override
        public void run() {
            int seen = 0;
            while (!pool.shutdown) {
                int gen = (int) (pool.ticket.get() >>> 32);
                if (gen == seen) {
                    waitForRegion(seen);
                    continue;
                }
                seen = gen;
                pool.work(gen);
            }
        }

        private void waitForRegion(int seen) {
            long deadline = System.nanoTime() + Pool.SPIN_NANOS;
            do {
                for (int i = 0; i < 64; i++) {
                    if ((int) (pool.ticket.get() >>> 32) != seen || pool.shutdown) {
                        return;
                    }
                    Thread.onSpinWait();
                }
            } while (System.nanoTime() < deadline);
            parked = true;
            if ((int) (pool.ticket.get() >>> 32) == seen && !pool.shutdown) {
                LockSupport.park(this);
            }
            parked = false;
        }
    }
}
