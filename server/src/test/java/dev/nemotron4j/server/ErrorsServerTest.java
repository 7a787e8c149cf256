package dev.nemotron4j.server;

import com.fasterxml.jackson.databind.JsonNode;
import dev.nemotron4j.generate.Engine;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.http.HttpResponse;
import java.util.concurrent.CountDownLatch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Every error is OpenAI-shaped, has the right status and carries no stack trace. */
class ErrorsServerTest {
    static LiveServer live;

    @BeforeAll
    static void start() {
        live = LiveServer.startLoading("greeting", () -> Engine.load(LiveServer.scripted("greeting"), 128), 2, 4,
                "sesame", 64 * 1024);
        live.awaitReady();
    }

    @AfterAll
    static void stop() {
        live.close();
    }

    private static final String AUTH = "Bearer sesame";

    private static JsonNode error(HttpResponse<String> r, int status) {
        assertEquals(status, r.statusCode(), r.body());
        assertFalse(r.body().contains("\tat "), "stack trace in " + r.body());
        JsonNode error = LiveServer.json(r).path("error");
        assertTrue(error.path("message").isTextual() && !error.path("message").asText().isBlank(), r.body());
        assertTrue(error.has("type") && error.has("param") && error.has("code"), r.body());
        return error;
    }

    private static HttpResponse<String> chat(String body) {
        return live.post("/v1/chat/completions", body, "Authorization", AUTH);
    }

    @Test
    void badRequests() {
        error(chat("{not json"), 400);
        error(chat("[1, 2]"), 400);
        error(chat(""), 400);
        assertEquals("messages", error(chat("{\"messages\": []}"), 400).path("param").asText());
        error(chat("{\"messages\": \"hi\"}"), 400);
        assertTrue(error(chat("{\"messages\": [{\"role\": \"wizard\", \"content\": \"x\"}]}"), 400).path("message")
                .asText().contains("wizard"));
        error(chat("{\"messages\": [{\"role\": 5}]}"), 400);
        assertEquals("temperature", error(chat(LiveServer.chat("\"temperature\": \"hot\"")), 400).path("param")
                .asText());
        error(chat(LiveServer.chat("\"temperature\": 3")), 400);
        error(chat(LiveServer.chat("\"max_tokens\": 0")), 400);
        error(chat(LiveServer.chat("\"max_tokens\": 1.5")), 400);
        error(chat(LiveServer.chat("\"stream\": \"yes\"")), 400);
        error(chat(LiveServer.chat("\"stop\": [1]")), 400);
        error(chat(LiveServer.chat("\"seed\": \"x\"")), 400);
        error(chat(LiveServer.chat("\"tools\": {}")), 400);
        error(chat(LiveServer.chat("\"tool_choice\": \"sometimes\"")), 400);
        error(chat(LiveServer.chat("\"tool_choice\": \"required\"")), 400);
        assertEquals("n", error(chat(LiveServer.chat("\"n\": 2")), 400).path("param").asText());
        JsonNode format = error(chat(LiveServer.chat("\"response_format\": {\"type\": \"json_object\"}")), 400);
        assertTrue(format.path("message").asText().contains("constrained decoding"), format.toString());
        error(live.post("/v1/completions", "{\"prompt\": [99999]}", "Authorization", AUTH), 400);
        error(live.post("/v1/completions", "{\"prompt\": {}}", "Authorization", AUTH), 400);
    }

    @Test
    void promptOverTheContext() {
        String longText = "word ".repeat(400);
        JsonNode error = error(chat("{\"messages\": [{\"role\": \"user\", \"content\": \"" + longText + "\"}]}"), 400);
        assertEquals("context_length_exceeded", error.path("code").asText());
    }

    @Test
    void unknownRouteAndModel() {
        error(live.get("/v2/everything", "Authorization", AUTH), 404);
        assertEquals("model_not_found", error(chat(LiveServer.chat("\"model\": \"gpt-4o\"")), 404).path("code")
                .asText());
    }

    @Test
    void bodyTooLarge() {
        String big = "{\"messages\": [{\"role\": \"user\", \"content\": \"" + "x".repeat(100_000) + "\"}]}";
        error(chat(big), 413);
    }

    @Test
    void apiKey() {
        assertEquals("invalid_api_key",
                error(live.post("/v1/chat/completions", LiveServer.chat("")), 401).path("code").asText());
        error(live.post("/v1/chat/completions", LiveServer.chat(""), "Authorization", "Bearer wrong"), 401);
        error(live.get("/v1/models"), 401);
        assertEquals(200, live.get("/v1/models", "Authorization", AUTH).statusCode());
        assertEquals(200, live.get("/health").statusCode(), "health needs no key");
    }

    @Test
    void healthIs503WhileTheModelLoads() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        try (LiveServer loading = LiveServer.startLoading("greeting", () -> {
            try {
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return Engine.load(LiveServer.scripted("greeting"), 128);
        }, 1, 1, null, 1 << 20)) {
            error(loading.get("/health"), 503);
            error(loading.post("/v1/chat/completions", LiveServer.chat("")), 503);
            release.countDown();
            loading.awaitReady();
            assertEquals(200, loading.get("/health").statusCode());
        }
    }
}
