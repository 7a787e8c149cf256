package dev.nemotron4j.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.nemotron4j.InvalidInputException;
import dev.nemotron4j.Nemotron4jException;
import dev.nemotron4j.chat.ChatJson;
import dev.nemotron4j.chat.ChatTemplateException;
import dev.nemotron4j.generate.BatchScheduler;
import dev.nemotron4j.generate.Engine;
import dev.nemotron4j.generate.QueueFullException;
import dev.nemotron4j.tokenizer.Tokenizer;
import io.javalin.Javalin;
import io.javalin.http.Context;
import io.javalin.http.HttpResponseException;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * An OpenAI-compatible HTTP server over one model: chat and text completions (whole or streamed as server-sent
 * events, with tool calls), models, health, Prometheus metrics, tokenize and detokenize. It listens at once and
 * loads the model in the background ({@code /health} answers 503 until it is ready); all generation goes through
 * one {@link BatchScheduler}, so concurrent requests are decoded together.
 */
public final class OpenAiServer implements AutoCloseable {
    static final String TOKENS_ATTRIBUTE = "nemotron4j.tokens";
    static final String DISCONNECTED_ATTRIBUTE = "nemotron4j.disconnected";

    private final ServerConfig config;
    private final ObjectMapper mapper = new ObjectMapper();
    private final ServerMetrics metrics;
    private final Completions completions;
    private final Consumer<String> log;
    private final long created = System.currentTimeMillis() / 1000;
    private final CompletableFuture<BatchScheduler> ready = new CompletableFuture<>();
    private final Javalin app;
    private volatile BatchScheduler scheduler;
    private volatile boolean closed;

    private OpenAiServer(ServerConfig config, Consumer<String> log) {
        this.config = config;
        this.log = log;
        this.metrics = new ServerMetrics(() -> scheduler == null ? 0 : scheduler.queueDepth(),
                () -> scheduler == null ? 0 : scheduler.activeSlots());
        this.completions = new Completions(mapper, metrics, config.modelId());
        this.app = Javalin.create(c -> {
            c.showJavalinBanner = false;
            c.useVirtualThreads = true;
            c.http.maxRequestSize = config.maxBodyBytes();
            c.http.disableCompression();
            c.requestLogger.http(this::logRequest);
        });
        routes();
    }

    /**
     * Starts listening on the configured host and port, then loads the model on another thread.
     *
     * @param loader loads the engine (may take minutes, e.g. to download it)
     * @param log    receives one line per request and the ready or failure message
     */
    public static OpenAiServer start(ServerConfig config, Supplier<Engine> loader, Consumer<String> log) {
        requireFreePort(config.host(), config.port());
        OpenAiServer server = new OpenAiServer(config, log);
        server.app.start(config.host(), config.port());
        Thread.ofPlatform().name("nemotron4j-model-loader").start(() -> server.load(loader));
        return server;
    }

    /** A clear one-line error for an address in use or not on this machine, before Jetty would log its own. */
    private static void requireFreePort(String host, int port) {
        try (ServerSocket probe = new ServerSocket()) {
            probe.setReuseAddress(true);
            probe.bind(new InetSocketAddress(host, port));
        } catch (IOException e) {
            throw new Nemotron4jException("cannot listen on " + host + ":" + port + ": " + e.getMessage());
        }
    }

    private void load(Supplier<Engine> loader) {
        try {
            Engine engine = loader.get();
            if (closed) {
                engine.close();
                return;
            }
            engine.warmUp();
            scheduler = new BatchScheduler(engine, config.parallel(), config.maxQueue());
            log.accept("nemotron4j: serving " + config.modelId() + " at " + url() + "/v1 (" + config.parallel()
                    + " parallel slots of " + engine.contextSize() + " tokens)");
            ready.complete(scheduler);
        } catch (RuntimeException e) {
            log.accept("nemotron4j: the model failed to load: " + oneLine(e));
            ready.completeExceptionally(e);
        }
    }

    /** Completes when the model is loaded (exceptionally when loading failed). */
    public CompletableFuture<BatchScheduler> ready() {
        return ready;
    }

    public int port() {
        return app.port();
    }

    public String url() {
        String host = config.host().contains(":") ? "[" + config.host() + "]" : config.host();
        return "http://" + host + ":" + port();
    }

    private void routes() {
        app.before(this::authorize);
        app.get("/health", this::health);
        app.get("/metrics", ctx -> ctx.contentType("text/plain; version=0.0.4; charset=utf-8")
                .result(metrics.scrape()));
        app.get("/v1/models", this::models);
        app.get("/v1/models/{model}", ctx -> {
            checkModel(ctx.pathParam("model"));
            json(ctx, 200, modelJson(), mapper);
        });
        app.post("/v1/chat/completions", ctx -> {
            BatchScheduler s = loaded();
            completions.chat(ctx, s, body(ctx));
        });
        app.post("/v1/completions", ctx -> {
            BatchScheduler s = loaded();
            completions.completion(ctx, s, body(ctx));
        });
        app.post("/tokenize", this::tokenize);
        app.post("/detokenize", this::detokenize);

        app.exception(ApiException.class, (e, ctx) -> error(ctx, e.status(), e.type(), e.getMessage(), e.param(),
                e.code()));
        app.exception(QueueFullException.class, (e, ctx) -> {
            ctx.header("Retry-After", "1");
            error(ctx, 429, "rate_limit_error", "the server is busy: " + e.getMessage() + "; retry shortly", null,
                    "queue_full");
        });
        app.exception(InvalidInputException.class, (e, ctx) -> error(ctx, 400, "invalid_request_error",
                e.getMessage(), null, null));
        app.exception(ChatTemplateException.class, (e, ctx) -> error(ctx, 400, "invalid_request_error",
                e.getMessage(), "messages", null));
        app.exception(HttpResponseException.class, (e, ctx) -> {
            switch (e.getStatus()) {
                case 404 -> error(ctx, 404, "invalid_request_error", "unknown route " + ctx.method() + " "
                        + ctx.path(), null, "unknown_url");
                case 413 -> error(ctx, 413, "invalid_request_error", "the request body is larger than "
                        + config.maxBodyBytes() + " bytes", null, "request_too_large");
                default -> error(ctx, e.getStatus(), e.getStatus() < 500 ? "invalid_request_error" : "server_error",
                        e.getMessage(), null, null);
            }
        });
        app.exception(Exception.class, (e, ctx) -> {
            log.accept("nemotron4j: internal error on " + ctx.method() + " " + ctx.path() + ": " + oneLine(e));
            error(ctx, 500, "server_error", "internal server error", null, null);
        });
    }

    private void authorize(Context ctx) {
        if (config.apiKey() == null || ctx.path().equals("/health")) {
            return;
        }
        String header = ctx.header("Authorization");
        byte[] expected = ("Bearer " + config.apiKey()).getBytes(StandardCharsets.UTF_8);
        if (header == null || !MessageDigest.isEqual(expected, header.getBytes(StandardCharsets.UTF_8))) {
            throw new ApiException(401, "invalid_request_error",
                    "a valid API key is required as 'Authorization: Bearer <key>'", null, "invalid_api_key");
        }
    }

    private void health(Context ctx) {
        if (ready.isCompletedExceptionally()) {
            error(ctx, 503, "unavailable_error", "the model failed to load", null, "model_load_failed");
        } else if (scheduler == null) {
            error(ctx, 503, "unavailable_error", "the model is loading", null, "model_loading");
        } else {
            ObjectNode status = mapper.createObjectNode().put("status", "ok")
                    .put("slots", scheduler.slotCount()).put("active_slots", scheduler.activeSlots())
                    .put("queue_depth", scheduler.queueDepth());
            json(ctx, 200, status, mapper);
        }
    }

    private void models(Context ctx) {
        ObjectNode list = mapper.createObjectNode().put("object", "list");
        list.putArray("data").add(modelJson());
        json(ctx, 200, list, mapper);
    }

    private ObjectNode modelJson() {
        return mapper.createObjectNode().put("id", config.modelId()).put("object", "model").put("created", created)
                .put("owned_by", "nemotron4j");
    }

    /** {@code {"content": text, "add_special": bool, "with_pieces": bool}} → {@code {"tokens": [...]}}. */
    private void tokenize(Context ctx) {
        Tokenizer tokenizer = loaded().engine().tokenizer();
        RequestFields f = body(ctx);
        String content = f.text("content");
        if (content == null) {
            throw ApiException.invalid("'content' (the text to tokenize) is required", "content");
        }
        boolean addSpecial = f.has("add_special") ? f.bool("add_special") : tokenizer.addBosByDefault();
        int[] ids = tokenizer.encode(content, addSpecial, f.has("parse_special") ? f.bool("parse_special") : true);
        ObjectNode response = mapper.createObjectNode();
        ArrayNode tokens = response.putArray("tokens");
        for (int id : ids) {
            if (f.bool("with_pieces")) {
                tokens.addObject().put("id", id).put("piece", tokenizer.piece(id));
            } else {
                tokens.add(id);
            }
        }
        json(ctx, 200, response, mapper);
    }

    /** {@code {"tokens": [ids]}} → {@code {"content": text}}. */
    private void detokenize(Context ctx) {
        Tokenizer tokenizer = loaded().engine().tokenizer();
        JsonNode tokens = body(ctx).node("tokens");
        if (tokens == null || !tokens.isArray()) {
            throw ApiException.invalid("'tokens' must be an array of token ids", "tokens");
        }
        int[] ids = new int[tokens.size()];
        for (int i = 0; i < ids.length; i++) {
            JsonNode id = tokens.get(i);
            if (!id.isIntegralNumber() || id.asLong() < 0 || id.asLong() >= tokenizer.vocabSize()) {
                throw ApiException.invalid("tokens[" + i + "] must be a token id in [0, " + tokenizer.vocabSize()
                        + ")", "tokens");
            }
            ids[i] = id.asInt();
        }
        json(ctx, 200, mapper.createObjectNode().put("content", tokenizer.decode(ids)), mapper);
    }

    private BatchScheduler loaded() {
        BatchScheduler s = scheduler;
        if (s == null) {
            throw new ApiException(503, "unavailable_error", ready.isCompletedExceptionally()
                    ? "the model failed to load" : "the model is loading; retry when /health answers 200", null,
                    "model_not_ready");
        }
        return s;
    }

    /** The JSON object body; a {@code model} field, when present, must name the served model. */
    private RequestFields body(Context ctx) {
        String text = ctx.body();
        if (text.isBlank()) {
            throw ApiException.invalid("the request body must be a JSON object", null);
        }
        JsonNode node;
        try {
            node = ChatJson.parse(text, "the request body");
        } catch (InvalidInputException e) {
            throw ApiException.invalid(e.getMessage(), null);
        }
        if (!node.isObject()) {
            throw ApiException.invalid("the request body must be a JSON object", null);
        }
        RequestFields fields = new RequestFields(node);
        String model = fields.text("model");
        if (model != null) {
            checkModel(model);
        }
        return fields;
    }

    private void checkModel(String model) {
        if (!model.equals(config.modelId())) {
            throw new ApiException(404, "invalid_request_error", "the model '" + model + "' does not exist; this "
                    + "server serves '" + config.modelId() + "'", "model", "model_not_found");
        }
    }

    private void error(Context ctx, int status, String type, String message, String param, String code) {
        json(ctx, status, errorBody(mapper, type, message, param, code), mapper);
    }

    static ObjectNode errorBody(ObjectMapper mapper, String type, String message, String param, String code) {
        ObjectNode body = mapper.createObjectNode();
        body.putObject("error").put("message", message).put("type", type).put("param", param).put("code", code);
        return body;
    }

    static void json(Context ctx, int status, JsonNode body, ObjectMapper mapper) {
        try {
            ctx.status(status).contentType("application/json").result(mapper.writeValueAsString(body));
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException("a response could not be written as JSON", e);
        }
    }

    /** An exception's message on one line, never a stack trace. */
    static String oneLine(Throwable e) {
        String message = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        return message.replaceAll("\\s+", " ");
    }

    private void logRequest(Context ctx, Float ms) {
        int status = ctx.statusCode();
        metrics.request(routePath(ctx), status);
        Integer tokens = ctx.attribute(TOKENS_ATTRIBUTE);
        Boolean gone = ctx.attribute(DISCONNECTED_ATTRIBUTE);
        log.accept(String.format("%s %s %d %.0f ms%s%s", ctx.method(), ctx.path(), status, ms,
                tokens == null ? "" : " " + tokens + " tokens", gone == null ? "" : " (client disconnected)"));
    }

    /** The route that answered, so that metrics are not split by arbitrary unknown paths. */
    private static String routePath(Context ctx) {
        try {
            String path = ctx.endpointHandlerPath();
            return path.isEmpty() || path.equals("*") ? "unmatched" : path;
        } catch (RuntimeException e) {
            return "unmatched"; // no endpoint matched this request
        }
    }

    /** Stops listening, then ends running generations and frees the model. */
    @Override
    public void close() {
        app.stop();
        closed = true;
        BatchScheduler s = scheduler;
        if (s != null) {
            s.close();
            s.engine().close();
        }
    }
}
