package dev.nemotron4j.server;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Batching, cancellation on disconnect, queue limits and a bounded load test. */
class ConcurrencyServerTest {

    private static void awaitIdle(LiveServer live) throws InterruptedException {
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (live.activeSlots() > 0 && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertEquals(0, live.activeSlots(), "slots still busy");
    }

    /** Opens a streaming request on a raw socket and reads until the first content arrives. */
    private static Socket openStream(LiveServer live, String body) throws Exception {
        URI uri = URI.create(live.url("/v1/chat/completions"));
        Socket socket = new Socket(uri.getHost(), uri.getPort());
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        OutputStream out = socket.getOutputStream();
        out.write(("POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                + "Content-Length: " + bytes.length + "\r\n\r\n").getBytes(StandardCharsets.UTF_8));
        out.write(bytes);
        out.flush();
        InputStream in = socket.getInputStream();
        StringBuilder seen = new StringBuilder();
        byte[] buffer = new byte[4096];
        while (!seen.toString().contains("la ")) {
            int n = in.read(buffer);
            assertTrue(n > 0, "the stream ended early: " + seen);
            seen.append(new String(buffer, 0, n, StandardCharsets.UTF_8));
        }
        return socket;
    }

    @Test
    void aClientThatDisconnectsFreesItsSlot() throws Exception {
        try (LiveServer live = LiveServer.start(LiveServer.scripted("no-eos"), 2, 4, null, 0)) {
            Socket socket = openStream(live, LiveServer.chat("\"stream\": true, \"max_tokens\": 100000"));
            assertEquals(1, live.activeSlots());
            socket.close();
            awaitIdle(live);
            String metrics = live.get("/metrics").body();
            assertTrue(metrics.contains("nemotron4j_active_slots 0.0"), metrics);
            assertTrue(live.log.stream().anyMatch(l -> l.contains("(client disconnected)")), live.log.toString());
        }
    }

    @Test
    void aFullQueueAnswers429WithRetryAfter() throws Exception {
        try (LiveServer live = LiveServer.start(LiveServer.scripted("no-eos"), 1, 1, null, 0)) {
            Socket running = openStream(live, LiveServer.chat("\"stream\": true, \"max_tokens\": 100000"));
            ExecutorService pool = Executors.newSingleThreadExecutor();
            Future<HttpResponse<String>> queued = pool.submit(() -> live.post("/v1/chat/completions",
                    LiveServer.chat("\"max_tokens\": 3")));
            long deadline = System.nanoTime() + 5_000_000_000L;
            while (live.server.ready().join().queueDepth() == 0 && System.nanoTime() < deadline) {
                Thread.sleep(5);
            }
            HttpResponse<String> refused = live.post("/v1/chat/completions", LiveServer.chat("\"max_tokens\": 3"));
            assertEquals(429, refused.statusCode(), refused.body());
            assertEquals("1", refused.headers().firstValue("Retry-After").orElse(null));
            assertEquals("rate_limit_error", LiveServer.json(refused).path("error").path("type").asText());
            running.close();
            HttpResponse<String> served = queued.get();
            assertEquals(200, served.statusCode(), served.body());
            assertEquals("la li lu ", LiveServer.json(served).path("choices").get(0).path("message").path("content")
                    .asText());
            pool.shutdown();
        }
    }

    @Test
    void concurrentGreedyRequestsGiveTheSameTextAsOneAlone() throws Exception {
        try (LiveServer live = LiveServer.start(LiveServer.goldenTiny(), 4, 16, null, 256)) {
            List<String> prompts = List.of("Once upon a time", "The weather today", "In a galaxy far away",
                    "Hello", "Numbers: one, two", "The blacksmith said");
            List<String> alone = new ArrayList<>();
            for (String p : prompts) {
                alone.add(completion(live, p));
            }
            ExecutorService pool = Executors.newFixedThreadPool(prompts.size());
            List<Future<String>> together = new ArrayList<>();
            for (String p : prompts) {
                together.add(pool.submit(() -> completion(live, p)));
            }
            for (int i = 0; i < prompts.size(); i++) {
                assertEquals(alone.get(i), together.get(i).get(), prompts.get(i));
            }
            pool.shutdown();
        }
    }

    private static String completion(LiveServer live, String prompt) {
        HttpResponse<String> r = live.post("/v1/completions", "{\"prompt\": \"" + prompt
                + "\", \"max_tokens\": 24, \"temperature\": 0}");
        assertEquals(200, r.statusCode(), r.body());
        return LiveServer.json(r).path("choices").get(0).path("text").asText();
    }

    @Test
    void aSeedReproducesSampledText() {
        try (LiveServer live = LiveServer.start(LiveServer.goldenTiny(), 2, 4, null, 256)) {
            String a = content(live.post("/v1/chat/completions", sampled(42)).body());
            String b = content(live.post("/v1/chat/completions", sampled(42)).body());
            String c = content(live.post("/v1/chat/completions", sampled(43)).body());
            assertEquals(a, b);
            assertNotEquals(a, c);
        }
    }

    private static String sampled(long seed) {
        return LiveServer.chat("\"temperature\": 1.2, \"max_tokens\": 24, \"seed\": " + seed);
    }

    private static String content(String response) {
        try {
            return LiveServer.MAPPER.readTree(response).path("choices").get(0).path("message").path("content")
                    .asText();
        } catch (java.io.IOException e) {
            throw new AssertionError(response, e);
        }
    }

    @Test
    void loadTestHasNoErrorsButQueueRefusalsAndKeepsMemoryStable() throws Exception {
        try (LiveServer live = LiveServer.start(LiveServer.scripted("greeting"), 4, 4, null, 128)) {
            runLoad(live, 40); // warm-up, so the measurement below is not JIT and class loading
            long before = usedHeapAfterGc();
            AtomicInteger busy = runLoad(live, 200);
            long after = usedHeapAfterGc();
            awaitIdle(live);
            assertTrue(after - before < 32L << 20, "heap grew by " + ((after - before) >> 20) + " MB");
            assertTrue(busy.get() < 200, "every request was refused");
            JsonNode health = LiveServer.json(live.get("/health"));
            assertEquals(0, health.path("queue_depth").asInt());
        }
    }

    /** Sends {@code total} requests, 16 at once; returns how many got 429 and fails on any other non-200. */
    private static AtomicInteger runLoad(LiveServer live, int total) throws Exception {
        AtomicInteger refused = new AtomicInteger();
        ExecutorService pool = Executors.newFixedThreadPool(16);
        List<Future<?>> futures = new ArrayList<>();
        for (int i = 0; i < total; i++) {
            boolean stream = i % 2 == 0;
            futures.add(pool.submit(() -> {
                HttpResponse<String> r = live.post("/v1/chat/completions",
                        LiveServer.chat("\"max_tokens\": 8" + (stream ? ", \"stream\": true" : "")));
                if (r.statusCode() == 429) {
                    refused.incrementAndGet();
                } else if (r.statusCode() != 200) {
                    throw new AssertionError(r.statusCode() + " " + r.body());
                }
            }));
        }
        for (Future<?> f : futures) {
            f.get();
        }
        pool.shutdown();
        return refused;
    }

    private static long usedHeapAfterGc() throws InterruptedException {
        Runtime rt = Runtime.getRuntime();
        for (int i = 0; i < 3; i++) {
            System.gc();
            Thread.sleep(50);
        }
        return rt.totalMemory() - rt.freeMemory();
    }
}
