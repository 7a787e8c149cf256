package dev.nemotron4j.generate;

import dev.nemotron4j.Nemotron4jException;

import java.util.Iterator;
import java.util.NoSuchElementException;
import java.util.Spliterators;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Stream;
import java.util.stream.StreamSupport;

/**
 * One prepared generation: run it with a callback ({@link #run}), consume it as a stream of text pieces
 * ({@link #stream}), or just take the result ({@link #result}). {@link #cancel()} may be called from any thread;
 * the generation then ends after the current token with {@link FinishReason#CANCELLED}. A generation runs once.
 */
public final class Generation {

    /** The work a generation performs when run: the engine binds model, state and prompt into it. */
    @FunctionalInterface
    public interface Body {
        GenerationResult run(GenerationListener listener, java.util.function.BooleanSupplier cancelled);
    }

    private final Body body;
    private final AtomicBoolean cancelled = new AtomicBoolean();
    private final AtomicBoolean started = new AtomicBoolean();
    private volatile GenerationResult result;

    public Generation(Body body) {
        this.body = body;
    }

    /** Runs to the end on this thread, calling {@code listener} as text becomes final. */
    public GenerationResult run(GenerationListener listener) {
        if (!started.compareAndSet(false, true)) {
            throw new IllegalStateException("a generation runs only once");
        }
        result = body.run(listener, cancelled::get);
        return result;
    }

    /** Runs to the end and returns the result. */
    public GenerationResult result() {
        return run(GenerationListener.NONE);
    }

    /** Runs to the end and returns the generated text. */
    public String text() {
        return result().text();
    }

    public void cancel() {
        cancelled.set(true);
    }

    public boolean isCancelled() {
        return cancelled.get();
    }

    /** The result once the generation has ended, else null. */
    public GenerationResult lastResult() {
        return result;
    }

    /**
     * The text as a lazy stream of pieces, produced on a virtual thread. Closing the stream early cancels the
     * generation; an error during generation is rethrown to the consumer.
     */
    public Stream<String> stream() {
        BlockingQueue<Object> queue = new LinkedBlockingQueue<>();
        Object end = new Object();
        Thread.ofVirtual().name("nemotron4j-generation").start(() -> {
            try {
                run(queue::add);
            } catch (RuntimeException e) {
                queue.add(e);
            } finally {
                queue.add(end);
            }
        });
        Iterator<String> pieces = new Iterator<>() {
            private Object next;

            @Override
            public boolean hasNext() {
                if (next == null) {
                    try {
                        next = queue.take();
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        cancel();
                        throw new Nemotron4jException("interrupted while waiting for generated text");
                    }
                }
                if (next instanceof RuntimeException e) {
                    next = end;
                    throw e;
                }
                return next != end;
            }

            @Override
            public String next() {
                if (!hasNext()) {
                    throw new NoSuchElementException();
                }
                String piece = (String) next;
                next = null;
                return piece;
            }
        };
        return StreamSupport.stream(Spliterators.spliteratorUnknownSize(pieces, 0), false).onClose(this::cancel);
    }
}
