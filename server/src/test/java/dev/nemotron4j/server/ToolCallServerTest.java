package dev.nemotron4j.server;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Tool calls end to end on the scripted models that always answer with one or two {@code <toolcall>}s. */
class ToolCallServerTest {
    static LiveServer attack;
    static LiveServer two;

    @BeforeAll
    static void start() {
        attack = LiveServer.start(LiveServer.scripted("toolcall-attack"));
        two = LiveServer.start(LiveServer.scripted("toolcall-two"));
    }

    @AfterAll
    static void stop() {
        attack.close();
        two.close();
    }

    @Test
    void oneCall() {
        JsonNode choice = LiveServer.json(attack.post("/v1/chat/completions", LiveServer.chat(LiveServer.TOOLS)))
                .path("choices").get(0);
        assertEquals("tool_calls", choice.path("finish_reason").asText());
        assertTrue(choice.path("message").path("content").isNull());
        JsonNode call = choice.path("message").path("tool_calls").get(0);
        assertTrue(call.path("id").asText().startsWith("call_"));
        assertEquals("function", call.path("type").asText());
        assertEquals("attack", call.path("function").path("name").asText());
        assertEquals("{\"target\":\"goblin\",\"power\":7}", call.path("function").path("arguments").asText());
    }

    @Test
    void twoCallsWithSplitTags() {
        JsonNode calls = LiveServer.json(two.post("/v1/chat/completions", LiveServer.chat(LiveServer.TOOLS)))
                .path("choices").get(0).path("message").path("tool_calls");
        assertEquals(2, calls.size());
        assertEquals("open_door", calls.get(0).path("function").path("name").asText());
        assertEquals("{\"door\":\"north\"}", calls.get(0).path("function").path("arguments").asText());
        assertEquals("say", calls.get(1).path("function").path("name").asText());
        assertEquals("{\"text\":\"Stand back!\"}", calls.get(1).path("function").path("arguments").asText());
    }

    @Test
    void streamedCallsNeverShowTheRawTag() {
        List<JsonNode> events = LiveServer.events(two.post("/v1/chat/completions",
                LiveServer.chat(LiveServer.TOOLS + ", \"stream\": true")));
        StringBuilder content = new StringBuilder();
        List<String> names = new java.util.ArrayList<>();
        for (JsonNode e : events) {
            JsonNode delta = e.path("choices").path(0).path("delta");
            content.append(delta.path("content").asText(""));
            for (JsonNode call : delta.path("tool_calls")) {
                assertEquals(names.size(), call.path("index").asInt());
                assertTrue(call.path("id").asText().startsWith("call_"));
                names.add(call.path("function").path("name").asText());
            }
        }
        assertFalse(content.toString().contains("toolcall"), content.toString());
        assertFalse(content.toString().contains("<"), content.toString());
        assertEquals(List.of("open_door", "say"), names);
        assertEquals("tool_calls", events.getLast().path("choices").get(0).path("finish_reason").asText());
    }

    @Test
    void toolChoiceNoneLeavesTheTextAlone() {
        JsonNode choice = LiveServer.json(attack.post("/v1/chat/completions",
                LiveServer.chat(LiveServer.TOOLS + ", \"tool_choice\": \"none\""))).path("choices").get(0);
        assertEquals("stop", choice.path("finish_reason").asText());
        assertTrue(choice.path("message").path("content").asText().startsWith("<toolcall>"));
        assertFalse(choice.path("message").has("tool_calls"));
    }

    @Test
    void namedAndRequiredToolChoice() {
        JsonNode named = LiveServer.json(attack.post("/v1/chat/completions", LiveServer.chat(LiveServer.TOOLS
                + ", \"tool_choice\": {\"type\": \"function\", \"function\": {\"name\": \"attack\"}}")));
        assertEquals("tool_calls", named.path("choices").get(0).path("finish_reason").asText());
        JsonNode required = LiveServer.json(attack.post("/v1/chat/completions",
                LiveServer.chat(LiveServer.TOOLS + ", \"tool_choice\": \"required\"")));
        assertEquals("tool_calls", required.path("choices").get(0).path("finish_reason").asText());
        assertEquals(400, attack.post("/v1/chat/completions", LiveServer.chat(LiveServer.TOOLS
                + ", \"tool_choice\": {\"type\": \"function\", \"function\": {\"name\": \"fly\"}}")).statusCode());
    }

    @Test
    void toolResultsGoBackThroughTheTemplate() {
        String body = "{\"messages\": [{\"role\": \"user\", \"content\": \"Attack!\"}, "
                + "{\"role\": \"assistant\", \"content\": null, \"tool_calls\": [{\"id\": \"call_1\", \"type\": "
                + "\"function\", \"function\": {\"name\": \"attack\", \"arguments\": \"{\\\"target\\\": \\\"goblin\\\"}\"}}]}, "
                + "{\"role\": \"tool\", \"tool_call_id\": \"call_1\", \"content\": \"{\\\"hit\\\": true}\"}], "
                + LiveServer.TOOLS + "}";
        var r = attack.post("/v1/chat/completions", body);
        assertEquals(200, r.statusCode(), r.body());
        JsonNode tokens = LiveServer.json(attack.post("/tokenize", "{\"content\": \"hit\"}"));
        assertTrue(tokens.path("tokens").size() > 0);
        assertTrue(LiveServer.json(r).path("usage").path("prompt_tokens").asInt() > 50);
    }
}
