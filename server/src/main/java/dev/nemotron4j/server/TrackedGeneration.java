package dev.nemotron4j.server;

import dev.nemotron4j.generate.BatchScheduler;
import dev.nemotron4j.generate.GenerationListener;
import dev.nemotron4j.generate.GenerationResult;
import dev.nemotron4j.generate.TokenLogprob;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;

/**
 * The bridge between the scheduler thread and one HTTP request: records token timing into the metrics and, for a
 * stream, queues text pieces (with the log-probabilities of the tokens that produced them) for the request thread.
 */
final class TrackedGeneration implements GenerationListener {

    /** What the request thread takes from a stream, in order: pieces, then one end. */
    sealed interface Event permits Piece, End {
    }

    record Piece(String text, List<TokenLogprob> logprobs) implements Event {
    }

    /** The generation ended: {@code result} is null when it failed with {@code error}. */
    record End(GenerationResult result, Throwable error) implements Event {
    }

    private final ServerMetrics metrics;
    private final boolean streaming;
    private final long submitted = System.nanoTime();
    private final BlockingQueue<Event> events = new LinkedBlockingQueue<>();
    private List<TokenLogprob> unsent = new ArrayList<>();
    private long lastToken;

    TrackedGeneration(ServerMetrics metrics, boolean streaming) {
        this.metrics = metrics;
        this.streaming = streaming;
    }

    /** Starts watching {@code job}: its end is queued after its last piece (both come from the scheduler thread). */
    void watch(BatchScheduler.Job job) {
        job.result().whenComplete((result, error) -> {
            if (result != null) {
                metrics.generation(result.promptTokens(), result.generatedTokens());
            }
            events.add(new End(result, error));
        });
    }

    @Override
    public void onToken(int token, TokenLogprob logprob) {
        long now = System.nanoTime();
        if (lastToken == 0) {
            metrics.firstToken(now - submitted);
        } else {
            metrics.interTokenLatency(now - lastToken);
        }
        lastToken = now;
        if (streaming && logprob != null) {
            unsent.add(logprob);
        }
    }

    @Override
    public void onText(String text) {
        if (streaming) {
            events.add(new Piece(text, unsent));
            unsent = new ArrayList<>();
        }
    }

    Event next() throws InterruptedException {
        return events.take();
    }
}
