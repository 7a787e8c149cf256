package dev.nemotron4j.generate;

import dev.nemotron4j.Golden;
import dev.nemotron4j.chat.ChatMessage;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class BatchSchedulerTest {
    private static Path scripted(String name) {
        return Golden.shared().resolve("scripted").resolve(name + ".gguf");
    }

    @Test
    void concurrentGreedyRequestsMatchTheSingleSequenceGenerator() throws Exception {
        try (Engine engine = Engine.load(Golden.gguf("tiny-nemotron", "q8_0"), 256);
             BatchScheduler scheduler = new BatchScheduler(engine, 3, 8, 5)) {
            List<int[]> prompts = List.of(engine.tokenizer().encode("Once upon a time"),
                    engine.tokenizer().encode("The quick brown fox jumps over the lazy dog and"),
                    engine.tokenizer().encode("A"), engine.tokenizer().encode("Hello there, how"));
            GenerationOptions options = GenerationOptions.of(SamplingParams.GREEDY, 20);
            List<BatchScheduler.Job> jobs = new ArrayList<>();
            for (int[] prompt : prompts) {
                jobs.add(scheduler.submit(prompt, options, GenerationListener.NONE));
            }
            for (int i = 0; i < prompts.size(); i++) {
                GenerationResult batched = jobs.get(i).result().get(30, TimeUnit.SECONDS);
                GenerationResult alone = engine.complete(prompts.get(i), options).result();
                assertArrayEquals(alone.tokens(), batched.tokens(), "prompt " + i);
                assertEquals(alone.text(), batched.text());
                assertEquals(FinishReason.LENGTH, batched.finishReason());
            }
        }
    }

    @Test
    void chatStopsAtEndOfTurnAndReusesTheCachedPrefix() throws Exception {
        try (Engine engine = Engine.load(scripted("greeting"));
             BatchScheduler scheduler = new BatchScheduler(engine, 2, 4)) {
            int[] prompt = engine.chatPrompt(List.of(ChatMessage.system("You are a smith."), ChatMessage.user("hi")),
                    List.of(), List.of());
            StringBuilder streamed = new StringBuilder();
            GenerationResult first = scheduler.submitChat(prompt, GenerationOptions.of(SamplingParams.GREEDY, 64),
                    streamed::append).result().get(30, TimeUnit.SECONDS);
            assertEquals("Greetings, stranger. The forge is hot today — mind the sparks! 🔥", first.text());
            assertEquals(first.text(), streamed.toString());
            assertEquals(FinishReason.STOP, first.finishReason());
            GenerationResult again = scheduler.submitChat(prompt, GenerationOptions.of(SamplingParams.GREEDY, 64),
                    GenerationListener.NONE).result().get(30, TimeUnit.SECONDS);
            assertEquals(prompt.length - 1, again.cachedPromptTokens());
        }
    }

    @Test
    void cancelFreesTheSlotAndAFullQueueRefuses() throws Exception {
        try (Engine engine = Engine.load(scripted("no-eos"));
             BatchScheduler scheduler = new BatchScheduler(engine, 1, 1)) {
            int[] prompt = engine.tokenizer().encode("sing");
            GenerationOptions endless = GenerationOptions.of(SamplingParams.GREEDY, 100_000);
            StringBuffer streamed = new StringBuffer();
            BatchScheduler.Job running = scheduler.submit(prompt, endless, streamed::append);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (streamed.length() < "la li lu".length() && System.nanoTime() < deadline) {
                Thread.sleep(5);
            }
            BatchScheduler.Job waiting = scheduler.submit(prompt, endless, GenerationListener.NONE);
            assertThrows(QueueFullException.class, () -> scheduler.submit(prompt, endless, GenerationListener.NONE));
            running.cancel();
            GenerationResult cancelled = running.result().get(10, TimeUnit.SECONDS);
            assertEquals(FinishReason.CANCELLED, cancelled.finishReason());
            assertTrue(cancelled.text().startsWith("la li lu"));
            waiting.cancel();
            assertEquals(FinishReason.CANCELLED, waiting.result().get(10, TimeUnit.SECONDS).finishReason());
            assertEquals(0, scheduler.activeSlots());
            assertEquals(0, scheduler.queueDepth());
        }
    }

    @Test
    void contextFullEndsTheGeneration() throws Exception {
        try (Engine engine = Engine.load(scripted("no-eos"), 16);
             BatchScheduler scheduler = new BatchScheduler(engine, 2, 2)) {
            int[] prompt = engine.tokenizer().encode("sing");
            GenerationResult r = scheduler.submit(prompt, GenerationOptions.of(SamplingParams.GREEDY, 1000),
                    GenerationListener.NONE).result().get(10, TimeUnit.SECONDS);
            assertEquals(FinishReason.CONTEXT_FULL, r.finishReason());
            assertEquals(16 - prompt.length + 1, r.generatedTokens());
            assertThrows(dev.nemotron4j.InvalidInputException.class,
                    () -> scheduler.submit(new int[16], GenerationOptions.of(SamplingParams.GREEDY, 1),
                            GenerationListener.NONE));
        }
    }
}
