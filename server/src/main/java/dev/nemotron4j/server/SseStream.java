package dev.nemotron4j.server;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.javalin.http.Context;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;

/**
 * A server-sent event stream on a POST response, as OpenAI streams: {@code data: <json>} events, then
 * {@code data: [DONE]}. Every event is flushed at once; a failed write means the client has gone.
 */
final class SseStream {
    private final OutputStream out;
    private final ObjectMapper mapper;

    SseStream(Context ctx, ObjectMapper mapper) throws IOException {
        this.mapper = mapper;
        ctx.status(200);
        ctx.res().setContentType("text/event-stream; charset=utf-8");
        ctx.res().setHeader("Cache-Control", "no-cache");
        ctx.res().setHeader("X-Accel-Buffering", "no");
        this.out = ctx.res().getOutputStream();
    }

    void send(JsonNode event) throws IOException {
        try {
            write("data: " + mapper.writeValueAsString(event) + "\n\n");
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("an event could not be written as JSON", e);
        }
    }

    void done() throws IOException {
        write("data: [DONE]\n\n");
    }

    private void write(String text) throws IOException {
        out.write(text.getBytes(StandardCharsets.UTF_8));
        out.flush();
    }
}
