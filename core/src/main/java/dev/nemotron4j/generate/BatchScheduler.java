package dev.nemotron4j.generate;

import dev.nemotron4j.InvalidInputException;
import dev.nemotron4j.Nemotron4jException;
import dev.nemotron4j.model.ForwardBuffers;
import dev.nemotron4j.model.InferenceState;
import dev.nemotron4j.model.Transformer;
import dev.nemotron4j.tokenizer.Tokenizer;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Continuous batching: many generations share one model, and all that are decoding advance together in one batched
 * forward pass per step. A request joins a free slot between steps and leaves it as soon as it stops.
 * <pre>
 *   each step:  admit queued requests into free slots (the free slot with the longest common cached prefix)
 *               evaluate one chunk of one admitted prompt        (a long prompt never stalls the others for long)
 *               forwardBatch(the last sampled token of every decoding slot)
 *               per slot: sample, check stops, stream text, finish or keep going
 * </pre>
 * Only the scheduler thread touches the model; {@link #submit} and {@link Job#cancel()} may be called from any thread.
 * Listeners are called on the scheduler thread and must return quickly (hand the text to another thread).
 */
public final class BatchScheduler implements AutoCloseable {
    /**
     * Prompt tokens evaluated per step for an admitted request: the integer prompt product still gains up to about
     * this many (4B Q4_0 {@code bench}: 43 tok/s at 64 tokens, 47 at 128). A chunk takes about 3 s on 2 cores, which
     * is how long the other slots wait between their tokens.
     */
    public static final int DEFAULT_PREFILL_CHUNK = 128;

    private final Engine engine;
    private final Transformer transformer;
    private final Tokenizer tokenizer;
    private final Slot[] slots;
    private final ForwardBuffers buffers;
    private final int maxQueue;
    private final int prefillChunk;
    private final ArrayDeque<Job> queue = new ArrayDeque<>();
    private final Thread thread;
    private volatile boolean closed;
    private volatile int active;
    private int nextPrefill;

    /**
     * @param parallel slots decoding together; each holds a KV cache of the engine's context size
     * @param maxQueue requests that may wait for a slot before {@link #submit} throws {@link QueueFullException}
     */
    public BatchScheduler(Engine engine, int parallel, int maxQueue) {
        this(engine, parallel, maxQueue, DEFAULT_PREFILL_CHUNK);
    }

    public BatchScheduler(Engine engine, int parallel, int maxQueue, int prefillChunk) {
        if (parallel < 1 || maxQueue < 0 || prefillChunk < 1) {
            throw new InvalidInputException("parallel slots must be >= 1, queue size >= 0 and prefill chunk >= 1, got "
                    + parallel + ", " + maxQueue + ", " + prefillChunk);
        }
        this.engine = engine;
        this.transformer = engine.model().transformer();
        this.tokenizer = engine.tokenizer();
        this.maxQueue = maxQueue;
        this.prefillChunk = prefillChunk;
        this.buffers = new ForwardBuffers(transformer.config());
        this.slots = new Slot[parallel];
        for (int i = 0; i < parallel; i++) {
            slots[i] = new Slot(engine.model().newState(engine.contextSize()));
        }
        this.thread = Thread.ofPlatform().name("nemotron4j-scheduler").daemon().start(this::run);
    }

    public Engine engine() {
        return engine;
    }

    /** Schedules a raw continuation of {@code prompt}. */
    public Job submit(int[] prompt, GenerationOptions options, GenerationListener listener) {
        return enqueue(prompt, options, listener);
    }

    /** Schedules an assistant turn for a prompt made by {@link Engine#chatPrompt}: adds the end-of-turn stops. */
    public Job submitChat(int[] prompt, GenerationOptions options, GenerationListener listener) {
        return enqueue(prompt, engine.chatOptions(options), listener);
    }

    public int slotCount() {
        return slots.length;
    }

    /** Slots holding a request (evaluating its prompt or decoding). */
    public int activeSlots() {
        return active;
    }

    /** Requests waiting for a slot. */
    public int queueDepth() {
        synchronized (queue) {
            return queue.size();
        }
    }

    private Job enqueue(int[] prompt, GenerationOptions options, GenerationListener listener) {
        Decoding.checkPrompt(prompt, engine.contextSize(), transformer);
        Job job = new Job(prompt.clone(), options, listener);
        synchronized (queue) {
            if (closed) {
                throw new Nemotron4jException("the scheduler is closed");
            }
            if (queue.size() >= maxQueue && !hasFreeSlotFor(queue.size())) {
                throw new QueueFullException("all " + slots.length + " slots are busy and " + queue.size()
                        + " requests are waiting (the queue holds " + maxQueue + ")");
            }
            queue.add(job);
            queue.notifyAll();
        }
        return job;
    }

    /** True when the scheduler will take {@code waiting + 1} requests into slots at its next step. */
    private boolean hasFreeSlotFor(int waiting) {
        return slots.length - active > waiting;
    }

    private void run() {
        try {
            while (!closed) {
                admit();
                if (active == 0) {
                    synchronized (queue) {
                        while (queue.isEmpty() && !closed) {
                            queue.wait();
                        }
                    }
                    continue;
                }
                step();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            failAll(new Nemotron4jException("the scheduler is closed"));
        }
    }

    private void admit() {
        while (true) {
            Job job;
            Slot slot;
            synchronized (queue) {
                job = queue.peek();
                if (job == null) {
                    return;
                }
                slot = bestFreeSlot(job.prompt);
                if (slot == null) {
                    return;
                }
                queue.poll();
            }
            if (job.cancelled.get()) {
                job.result.complete(job.emptyResult(FinishReason.CANCELLED));
                continue;
            }
            job.start(slot.state.keepCommonPrefix(job.prompt));
            slot.job = job;
            active++;
        }
    }

    /** The free slot whose cached tokens share the longest prefix with {@code prompt} (a returning conversation). */
    private Slot bestFreeSlot(int[] prompt) {
        Slot best = null;
        int bestCommon = -1;
        for (Slot slot : slots) {
            if (slot.job != null) {
                continue;
            }
            int[] cached = slot.state.tokens();
            int common = 0;
            int limit = Math.min(cached.length, prompt.length);
            while (common < limit && cached[common] == prompt[common]) {
                common++;
            }
            if (common > bestCommon) {
                best = slot;
                bestCommon = common;
            }
        }
        return best;
    }

    private void step() {
        for (Slot slot : slots) {
            if (slot.job != null && slot.job.cancelled.get()) {
                finish(slot, FinishReason.CANCELLED);
            }
        }
        prefillOneChunk();
        decodeBatch();
    }

    /** Evaluates the next chunk of one prompt, taking turns between slots that are still evaluating theirs. */
    private void prefillOneChunk() {
        for (int i = 0; i < slots.length; i++) {
            Slot slot = slots[(nextPrefill + i) % slots.length];
            Job job = slot.job;
            if (job == null || job.pending >= 0) {
                continue;
            }
            nextPrefill = (nextPrefill + i + 1) % slots.length;
            int from = slot.state.position();
            int to = Math.min(job.prompt.length, from + prefillChunk);
            try {
                float[] logits = transformer.forward(slot.state, Arrays.copyOfRange(job.prompt, from, to), false);
                if (to == job.prompt.length) {
                    job.promptDone = System.nanoTime();
                    accept(slot, logits, 0);
                }
            } catch (RuntimeException e) {
                fail(slot, e);
            }
            return;
        }
    }

    private void decodeBatch() {
        List<Slot> decoding = new ArrayList<>(slots.length);
        for (Slot slot : slots) {
            if (slot.job != null && slot.job.pending >= 0) {
                decoding.add(slot);
            }
        }
        if (decoding.isEmpty()) {
            return;
        }
        InferenceState[] states = new InferenceState[decoding.size()];
        int[] tokens = new int[decoding.size()];
        for (int r = 0; r < states.length; r++) {
            states[r] = decoding.get(r).state;
            tokens[r] = decoding.get(r).job.pending;
        }
        float[] logits;
        try {
            logits = transformer.forwardBatch(buffers, states, tokens);
        } catch (RuntimeException e) {
            decoding.forEach(slot -> fail(slot, e));
            return;
        }
        int vocab = transformer.config().vocabSize();
        for (int r = 0; r < states.length; r++) {
            accept(decoding.get(r), logits, r * vocab);
        }
    }

    /** Chooses the next token of the slot's request from one row of logits and applies the stop rules. */
    private void accept(Slot slot, float[] logits, int offset) {
        Job job = slot.job;
        try {
            FinishReason reason = job.decoding.accept(logits, offset, slot.state.position(),
                    slot.state.cache().capacity());
            if (reason != null) {
                finish(slot, reason);
            } else {
                job.pending = job.decoding.lastToken();
            }
        } catch (RuntimeException e) {
            fail(slot, e);
        }
    }

    private void finish(Slot slot, FinishReason reason) {
        Job job = slot.job;
        release(slot);
        try {
            job.decoding.flush();
            job.result.complete(job.toResult(reason));
        } catch (RuntimeException e) {
            job.result.completeExceptionally(e);
        }
    }

    private void fail(Slot slot, RuntimeException e) {
        Job job = slot.job;
        release(slot);
        slot.state.reset(); // its cache may be half written
        job.result.completeExceptionally(e);
    }

    private void release(Slot slot) {
        slot.job = null;
        active--;
    }

    private void failAll(RuntimeException e) {
        for (Slot slot : slots) {
            if (slot.job != null) {
                fail(slot, e);
            }
        }
        synchronized (queue) {
            queue.forEach(job -> job.result.completeExceptionally(e));
            queue.clear();
        }
    }

    /** Stops the scheduler thread; requests still running or waiting fail. */
    @Override
    public void close() {
        synchronized (queue) {
            closed = true;
            queue.notifyAll();
        }
        try {
            thread.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static final class Slot {
        final InferenceState state;
        Job job;

        Slot(InferenceState state) {
            this.state = state;
        }
    }

    /** One scheduled generation: its result arrives in {@link #result()}; {@link #cancel()} ends it early. */
    public final class Job {
        private final int[] prompt;
        private final GenerationOptions options;
        private final GenerationListener listener;
        private final AtomicBoolean cancelled = new AtomicBoolean();
        private final CompletableFuture<GenerationResult> result = new CompletableFuture<>();
        private final long submitted = System.nanoTime();
        private Decoding decoding; // touched by the scheduler thread only
        private int cached;
        private int pending = -1; // sampled but not yet evaluated; -1 while the prompt is being evaluated
        private long started;
        private long promptDone;

        private Job(int[] prompt, GenerationOptions options, GenerationListener listener) {
            this.prompt = prompt;
            this.options = options;
            this.listener = listener;
        }

        public CompletableFuture<GenerationResult> result() {
            return result;
        }

        /** Ends the generation before its next token (or takes it off the queue); the result says CANCELLED. */
        public void cancel() {
            cancelled.set(true);
        }

        public int promptTokens() {
            return prompt.length;
        }

        private void start(int cachedTokens) {
            cached = cachedTokens;
            started = System.nanoTime();
            decoding = new Decoding(prompt, options, tokenizer, transformer.config().vocabSize(), listener);
        }

        private GenerationResult toResult(FinishReason reason) {
            long end = System.nanoTime();
            long promptEnd = promptDone == 0 ? end : promptDone;
            return decoding.result(reason, cached, (promptEnd - started) / 1e6, (end - promptEnd) / 1e6);
        }

        private GenerationResult emptyResult(FinishReason reason) {
            return new GenerationResult(new int[0], "", reason, prompt.length, 0,
                    (System.nanoTime() - submitted) / 1e6, 0, List.of());
        }
    }
}
