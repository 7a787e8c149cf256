package dev.nemotron4j.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.nemotron4j.generate.Engine;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/** A server on 127.0.0.1 with a free port, for one test class, plus a small HTTP client. */
final class LiveServer implements AutoCloseable {
    static final ObjectMapper MAPPER = new ObjectMapper();
    final OpenAiServer server;
    final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    final List<String> log;

    private LiveServer(OpenAiServer server, List<String> log) {
        this.server = server;
        this.log = log;
    }

    static Path shared() {
        return Path.of(System.getProperty("nemotron4j.shared", "../shared"));
    }

    static Path scripted(String name) {
        return shared().resolve("scripted").resolve(name + ".gguf");
    }

    static Path goldenTiny() {
        return shared().resolve("golden/tiny-nemotron/gguf/tiny-nemotron-q8_0.gguf");
    }

    static LiveServer start(Path model, int parallel, int maxQueue, String apiKey, int ctx) {
        LiveServer live = startLoading(model.getFileName().toString().replace(".gguf", ""),
                () -> Engine.load(model, ctx), parallel, maxQueue, apiKey, 1 << 20);
        live.awaitReady();
        return live;
    }

    static LiveServer start(Path model) {
        return start(model, 4, 16, null, 0);
    }

    static LiveServer startLoading(String modelId, Supplier<Engine> loader, int parallel, int maxQueue,
                                   String apiKey, long maxBody) {
        ServerConfig config = new ServerConfig("127.0.0.1", 0, modelId, apiKey, parallel, maxQueue, maxBody);
        List<String> log = java.util.Collections.synchronizedList(new ArrayList<>());
        OpenAiServer server = OpenAiServer.start(config, loader, log::add);
        return new LiveServer(server, log);
    }

    void awaitReady() {
        try {
            server.ready().get(60, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new IllegalStateException("the test server did not become ready", e);
        }
    }

    String url(String path) {
        return server.url() + path;
    }

    HttpResponse<String> post(String path, String body, String... headers) {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(url(path)))
                .timeout(Duration.ofSeconds(60)).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body));
        if (headers.length > 0) {
            request.headers(headers);
        }
        return send(request.build());
    }

    HttpResponse<String> get(String path, String... headers) {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(url(path))).timeout(Duration.ofSeconds(60));
        if (headers.length > 0) {
            request.headers(headers);
        }
        return send(request.build());
    }

    private HttpResponse<String> send(HttpRequest request) {
        try {
            return http.send(request, HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    static JsonNode json(HttpResponse<String> response) {
        try {
            return MAPPER.readTree(response.body());
        } catch (IOException e) {
            throw new AssertionError("not JSON: " + response.body(), e);
        }
    }

    /** The JSON payloads of an SSE body, checking the framing: {@code data: } lines, blank-line separated, [DONE] last. */
    static List<JsonNode> events(HttpResponse<String> response) {
        String body = response.body();
        if (!body.endsWith("data: [DONE]\n\n")) {
            throw new AssertionError("the stream does not end with data: [DONE]: " + body);
        }
        List<JsonNode> events = new ArrayList<>();
        for (String block : body.split("\n\n")) {
            if (!block.startsWith("data: ") || block.contains("\n")) {
                throw new AssertionError("bad SSE event: " + block);
            }
            String data = block.substring("data: ".length());
            if (!data.equals("[DONE]")) {
                try {
                    events.add(MAPPER.readTree(data));
                } catch (IOException e) {
                    throw new AssertionError("bad event JSON: " + data, e);
                }
            }
        }
        return events;
    }

    /** A chat request body with one user message and the given extra fields ({@code "key": value, …}). */
    static String chat(String extra) {
        return "{\"messages\": [{\"role\": \"system\", \"content\": \"You are Brakka.\"}, "
                + "{\"role\": \"user\", \"content\": \"Can you help me?\"}]" + (extra.isEmpty() ? "" : ", " + extra)
                + "}";
    }

    static final String TOOLS = "\"tools\": [{\"type\": \"function\", \"function\": {\"name\": \"attack\", "
            + "\"description\": \"Attack a target\", \"parameters\": {\"type\": \"object\", \"properties\": "
            + "{\"target\": {\"type\": \"string\"}, \"power\": {\"type\": \"integer\"}}}}}, "
            + "{\"type\": \"function\", \"function\": {\"name\": \"open_door\", \"parameters\": {}}}, "
            + "{\"type\": \"function\", \"function\": {\"name\": \"say\", \"parameters\": {}}}]";

    int activeSlots() {
        return server.ready().join().activeSlots();
    }

    @Override
    public void close() {
        server.close();
    }
}
