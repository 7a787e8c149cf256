package dev.nemotron4j.server;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.http.HttpResponse;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Chat, completions, models, health, metrics and tokenize on the scripted greeting model. */
class ChatServerTest {
    static final String GREETING = "Greetings, stranger. The forge is hot today — mind the sparks! 🔥";
    static LiveServer live;

    @BeforeAll
    static void start() {
        live = LiveServer.start(LiveServer.scripted("greeting"));
    }

    @AfterAll
    static void stop() {
        live.close();
    }

    @Test
    void plainChatWithUsage() {
        HttpResponse<String> r = live.post("/v1/chat/completions", LiveServer.chat("\"model\": \"greeting\""));
        assertEquals(200, r.statusCode(), r.body());
        JsonNode body = LiveServer.json(r);
        assertEquals("chat.completion", body.path("object").asText());
        assertEquals("greeting", body.path("model").asText());
        JsonNode choice = body.path("choices").get(0);
        assertEquals("assistant", choice.path("message").path("role").asText());
        assertEquals(GREETING, choice.path("message").path("content").asText());
        assertEquals("stop", choice.path("finish_reason").asText());
        JsonNode usage = body.path("usage");
        assertEquals(8, usage.path("completion_tokens").asInt()); // 4 text tokens + the emoji's 4 bytes
        assertTrue(usage.path("prompt_tokens").asInt() > 10);
        assertEquals(usage.path("prompt_tokens").asInt() + 8, usage.path("total_tokens").asInt());
    }

    @Test
    void streamingFramingUsageAndWholeCharacters() {
        HttpResponse<String> r = live.post("/v1/chat/completions",
                LiveServer.chat("\"stream\": true, \"stream_options\": {\"include_usage\": true}"));
        assertEquals(200, r.statusCode(), r.body());
        assertTrue(r.headers().firstValue("Content-Type").orElse("").startsWith("text/event-stream"));
        List<JsonNode> events = LiveServer.events(r);
        StringBuilder text = new StringBuilder();
        for (JsonNode e : events.subList(0, events.size() - 1)) {
            assertEquals("chat.completion.chunk", e.path("object").asText());
            String piece = e.path("choices").get(0).path("delta").path("content").asText("");
            assertFalse(piece.contains("\uFFFD"), "a split character was streamed");
            text.append(piece);
        }
        assertEquals(GREETING, text.toString());
        assertEquals("assistant", events.get(0).path("choices").get(0).path("delta").path("role").asText());
        JsonNode last = events.get(events.size() - 2);
        assertEquals("stop", last.path("choices").get(0).path("finish_reason").asText());
        JsonNode usage = events.getLast();
        assertEquals(0, usage.path("choices").size());
        assertEquals(8, usage.path("usage").path("completion_tokens").asInt());
    }

    @Test
    void streamingWithoutUsageEndsWithTheFinishChunk() {
        List<JsonNode> events = LiveServer.events(live.post("/v1/chat/completions",
                LiveServer.chat("\"stream\": true")));
        assertEquals("stop", events.getLast().path("choices").get(0).path("finish_reason").asText());
        assertTrue(events.stream().noneMatch(e -> e.has("usage")));
    }

    @Test
    void stopStringsAndMaxTokens() {
        JsonNode stopped = LiveServer.json(live.post("/v1/chat/completions",
                LiveServer.chat("\"stop\": [\"forge\", \"zzz\"]")));
        assertEquals("Greetings, stranger. The ", stopped.path("choices").get(0).path("message").path("content")
                .asText());
        assertEquals("stop", stopped.path("choices").get(0).path("finish_reason").asText());
        JsonNode single = LiveServer.json(live.post("/v1/chat/completions", LiveServer.chat("\"stop\": \"stranger\"")));
        assertEquals("Greetings, ", single.path("choices").get(0).path("message").path("content").asText());
        JsonNode cut = LiveServer.json(live.post("/v1/chat/completions",
                LiveServer.chat("\"max_completion_tokens\": 2")));
        assertEquals("Greetings, stranger.", cut.path("choices").get(0).path("message").path("content").asText());
        assertEquals("length", cut.path("choices").get(0).path("finish_reason").asText());
        assertEquals(2, cut.path("usage").path("completion_tokens").asInt());
    }

    @Test
    void logprobs() {
        JsonNode body = LiveServer.json(live.post("/v1/chat/completions",
                LiveServer.chat("\"logprobs\": true, \"top_logprobs\": 2, \"max_tokens\": 2, \"temperature\": 0")));
        JsonNode content = body.path("choices").get(0).path("logprobs").path("content");
        assertEquals(2, content.size());
        assertEquals("Greetings,", content.get(0).path("token").asText());
        assertEquals(" stranger.", content.get(1).path("token").asText());
        assertTrue(content.get(0).path("logprob").asDouble() > -0.01);
        assertEquals(2, content.get(0).path("top_logprobs").size());
    }

    @Test
    void ragContextsAndSamplingFieldsAreAccepted() {
        HttpResponse<String> r = live.post("/v1/chat/completions", LiveServer.chat(
                "\"contexts\": [\"The forge was built in 1203.\"], \"temperature\": 0.7, \"top_p\": 0.9, "
                        + "\"seed\": 3, \"frequency_penalty\": 0.1, \"presence_penalty\": 0.1, \"n\": 1, "
                        + "\"response_format\": {\"type\": \"text\"}, \"user\": \"npc-7\""));
        assertEquals(200, r.statusCode(), r.body());
        assertEquals(GREETING, LiveServer.json(r).path("choices").get(0).path("message").path("content").asText());
    }

    @Test
    void textCompletionsFromTextAndTokenIds() {
        JsonNode text = LiveServer.json(live.post("/v1/completions",
                "{\"model\": \"greeting\", \"prompt\": \"Hello\", \"max_tokens\": 3}"));
        assertEquals("text_completion", text.path("object").asText());
        assertEquals("Greetings, stranger. The forge is hot today",
                text.path("choices").get(0).path("text").asText());
        assertEquals("length", text.path("choices").get(0).path("finish_reason").asText());
        JsonNode ids = LiveServer.json(live.post("/v1/completions", "{\"prompt\": [2, 17], \"max_tokens\": 1}"));
        assertEquals("Greetings,", ids.path("choices").get(0).path("text").asText());
        assertEquals(2, ids.path("usage").path("prompt_tokens").asInt());
        List<JsonNode> events = LiveServer.events(live.post("/v1/completions",
                "{\"prompt\": \"Hi\", \"stream\": true, \"stream_options\": {\"include_usage\": true}}"));
        StringBuilder streamed = new StringBuilder();
        events.stream().filter(e -> !e.path("choices").isEmpty())
                .forEach(e -> streamed.append(e.path("choices").get(0).path("text").asText()));
        assertEquals(GREETING, streamed.toString());
        assertEquals(8, events.getLast().path("usage").path("completion_tokens").asInt());
        JsonNode lp = LiveServer.json(live.post("/v1/completions",
                "{\"prompt\": \"Hi\", \"max_tokens\": 1, \"logprobs\": 1}"));
        assertEquals("Greetings,", lp.path("choices").get(0).path("logprobs").path("tokens").get(0).asText());
    }

    @Test
    void modelsHealthMetrics() {
        JsonNode models = LiveServer.json(live.get("/v1/models"));
        assertEquals("list", models.path("object").asText());
        assertEquals("greeting", models.path("data").get(0).path("id").asText());
        assertEquals(200, live.get("/v1/models/greeting").statusCode());
        assertEquals(404, live.get("/v1/models/gpt-4").statusCode());
        HttpResponse<String> health = live.get("/health");
        assertEquals(200, health.statusCode());
        assertEquals("ok", LiveServer.json(health).path("status").asText());
        live.post("/v1/chat/completions", LiveServer.chat(""));
        String metrics = live.get("/metrics").body();
        for (String name : List.of("nemotron4j_requests_total{", "nemotron4j_prompt_tokens_total",
                "nemotron4j_generated_tokens_total", "nemotron4j_time_to_first_token_seconds_bucket",
                "nemotron4j_token_latency_seconds_bucket", "nemotron4j_queue_depth", "nemotron4j_active_slots")) {
            assertTrue(metrics.contains(name), name + " missing from\n" + metrics);
        }
        assertTrue(metrics.contains("path=\"/v1/chat/completions\",status=\"200\""));
    }

    @Test
    void tokenizeAndDetokenize() {
        JsonNode tokens = LiveServer.json(live.post("/tokenize", "{\"content\": \"Hello\"}"));
        assertEquals(2, tokens.path("tokens").get(0).asInt()); // BOS
        JsonNode noBos = LiveServer.json(live.post("/tokenize", "{\"content\": \"Hello\", \"add_special\": false, "
                + "\"with_pieces\": true}"));
        assertTrue(noBos.path("tokens").get(0).has("piece"));
        String ids = tokens.path("tokens").toString();
        JsonNode text = LiveServer.json(live.post("/detokenize", "{\"tokens\": " + ids + "}"));
        assertEquals("Hello", text.path("content").asText());
        assertEquals(400, live.post("/detokenize", "{\"tokens\": [\"x\"]}").statusCode());
        assertEquals(400, live.post("/tokenize", "{}").statusCode());
    }

    @Test
    void requestsAreLoggedOneLineEach() {
        live.post("/v1/chat/completions", LiveServer.chat("\"max_tokens\": 2"));
        assertTrue(live.log.stream().anyMatch(line -> line.matches("POST /v1/chat/completions 200 \\d+ ms 2 tokens")),
                live.log.toString());
    }
}
