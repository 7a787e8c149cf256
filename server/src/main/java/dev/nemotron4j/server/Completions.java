package dev.nemotron4j.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.nemotron4j.InvalidInputException;
import dev.nemotron4j.chat.ChatJson;
import dev.nemotron4j.chat.ChatMessage;
import dev.nemotron4j.chat.ToolCall;
import dev.nemotron4j.chat.ToolCallParser;
import dev.nemotron4j.generate.BatchScheduler;
import dev.nemotron4j.generate.Engine;
import dev.nemotron4j.generate.FinishReason;
import dev.nemotron4j.generate.GenerationOptions;
import dev.nemotron4j.generate.GenerationResult;
import dev.nemotron4j.generate.SamplingParams;
import dev.nemotron4j.generate.TokenLogprob;
import dev.nemotron4j.tokenizer.Tokenizer;
import io.javalin.http.Context;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;

/** {@code POST /v1/chat/completions} and {@code POST /v1/completions}, whole or streamed. */
final class Completions {
    private static final SecureRandom RANDOM = new SecureRandom();

    private final ObjectMapper mapper;
    private final ServerMetrics metrics;
    private final String modelId;

    Completions(ObjectMapper mapper, ServerMetrics metrics, String modelId) {
        this.mapper = mapper;
        this.metrics = metrics;
        this.modelId = modelId;
    }

    /** What the model was asked to do with the tools it was given. */
    private enum ToolChoice { AUTO, NONE, REQUIRED, NAMED }

    /** Settings shared by both endpoints. */
    private record Common(GenerationOptions options, boolean stream, boolean includeUsage, int logprobs) {
    }

    void chat(Context ctx, BatchScheduler scheduler, RequestFields f) throws IOException, InterruptedException {
        Engine engine = scheduler.engine();
        if (f.has("n") && f.integer("n", 1, Integer.MAX_VALUE) != 1) {
            throw ApiException.invalid("only n = 1 is supported (one choice per request)", "n");
        }
        JsonNode format = f.object("response_format");
        if (format != null && !"text".equals(format.path("type").asText())) {
            throw ApiException.invalid("response_format '" + format.path("type").asText()
                    + "' is not supported yet: constrained decoding (JSON mode, JSON schema) does not exist in this "
                    + "server; ask for JSON in the prompt instead", "response_format");
        }
        JsonNode messagesNode = f.node("messages");
        if (messagesNode == null || !messagesNode.isArray() || messagesNode.isEmpty()) {
            throw ApiException.invalid("'messages' must be a non-empty array of messages", "messages");
        }
        List<ChatMessage> messages = asInvalid("messages", () -> ChatJson.messages(messagesNode));
        List<Object> tools = f.has("tools") ? asInvalid("tools", () -> ChatJson.tools(f.node("tools"))) : List.of();
        List<String> contexts = f.has("contexts")
                ? asInvalid("contexts", () -> ChatJson.contexts(f.node("contexts"))) : List.of();
        ToolChoice choice = ToolChoice.AUTO;
        String named = null;
        JsonNode choiceNode = f.node("tool_choice");
        if (choiceNode != null) {
            if (choiceNode.isTextual()) {
                choice = switch (choiceNode.asText()) {
                    case "auto" -> ToolChoice.AUTO;
                    case "none" -> ToolChoice.NONE;
                    case "required" -> ToolChoice.REQUIRED;
                    default -> throw ApiException.invalid("'tool_choice' must be auto, none, required or "
                            + "{\"type\": \"function\", \"function\": {\"name\": …}}", "tool_choice");
                };
            } else if (choiceNode.path("function").path("name").isTextual()) {
                choice = ToolChoice.NAMED;
                named = choiceNode.path("function").path("name").asText();
            } else {
                throw ApiException.invalid("'tool_choice' must be auto, none, required or "
                        + "{\"type\": \"function\", \"function\": {\"name\": …}}", "tool_choice");
            }
        }
        if ((choice == ToolChoice.REQUIRED || choice == ToolChoice.NAMED) && tools.isEmpty()) {
            throw ApiException.invalid("'tool_choice' " + choiceNode + " needs a non-empty 'tools' list", "tool_choice");
        }
        // Without constrained decoding, "required" and a named function can only shape the prompt: the model sees
        // all tools (required) or just the named one, and is trusted to call it.
        List<Object> offered = switch (choice) {
            case NONE -> List.of();
            case AUTO, REQUIRED -> tools;
            case NAMED -> onlyTool(tools, named);
        };
        int[] prompt = asInvalid("messages", () -> engine.chatPrompt(messages, offered, contexts));
        Common common = common(f, engine, prompt.length);
        TrackedGeneration tracked = new TrackedGeneration(metrics, common.stream());
        BatchScheduler.Job job = scheduler.submitChat(prompt, common.options(), tracked);
        tracked.watch(job);
        boolean parseTools = !offered.isEmpty();
        String id = "chatcmpl-" + randomHex();
        long created = System.currentTimeMillis() / 1000;
        if (common.stream()) {
            streamChat(ctx, job, tracked, common, engine.tokenizer(), parseTools, id, created);
            return;
        }
        GenerationResult result = await(job);
        ctx.attribute(OpenAiServer.TOKENS_ATTRIBUTE, result.generatedTokens());
        ObjectNode message = mapper.createObjectNode().put("role", "assistant");
        String finish = finishReason(result.finishReason());
        if (parseTools) {
            ToolCallParser.Parsed parsed = ToolCallParser.parse(result.text());
            message.put("content", parsed.content());
            if (!parsed.calls().isEmpty()) {
                ArrayNode calls = message.putArray("tool_calls");
                for (ToolCall call : parsed.calls()) {
                    calls.add(toolCallJson(call, -1));
                }
                finish = "tool_calls";
            }
        } else {
            message.put("content", result.text());
        }
        ObjectNode response = envelope(id, "chat.completion", created);
        ObjectNode choiceJson = response.putArray("choices").addObject().put("index", 0);
        choiceJson.set("message", message);
        choiceJson.set("logprobs", common.logprobs() >= 0
                ? chatLogprobs(result.logprobs(), engine.tokenizer()) : mapper.nullNode());
        choiceJson.put("finish_reason", finish);
        response.set("usage", usage(result));
        OpenAiServer.json(ctx, 200, response, mapper);
    }

    private void streamChat(Context ctx, BatchScheduler.Job job, TrackedGeneration tracked, Common common,
                            Tokenizer tokenizer, boolean parseTools, String id, long created)
            throws IOException, InterruptedException {
        ToolCallParser.Streaming parser = parseTools ? new ToolCallParser.Streaming() : null;
        try {
            SseStream sse = new SseStream(ctx, mapper);
            ObjectNode first = mapper.createObjectNode().put("role", "assistant").put("content", "");
            sse.send(chatChunk(id, created, first, null, null));
            while (true) {
                TrackedGeneration.Event event = tracked.next();
                if (event instanceof TrackedGeneration.Piece piece) {
                    ObjectNode lps = common.logprobs() >= 0 ? chatLogprobs(piece.logprobs(), tokenizer) : null;
                    List<ToolCallParser.Event> parts = parser == null
                            ? List.of(new ToolCallParser.Text(piece.text())) : parser.push(piece.text());
                    sendChatParts(sse, parts, parser, id, created, lps);
                    continue;
                }
                TrackedGeneration.End end = (TrackedGeneration.End) event;
                if (end.result() == null) {
                    sse.send(OpenAiServer.errorBody(mapper, "server_error",
                            "generation failed: " + OpenAiServer.oneLine(end.error()), null, null));
                    sse.done();
                    return;
                }
                GenerationResult result = end.result();
                ctx.attribute(OpenAiServer.TOKENS_ATTRIBUTE, result.generatedTokens());
                if (parser != null) {
                    sendChatParts(sse, parser.finish(), parser, id, created, null);
                }
                String finish = parser != null && parser.callCount() > 0
                        ? "tool_calls" : finishReason(result.finishReason());
                sse.send(chatChunk(id, created, mapper.createObjectNode(), finish, null));
                finishStream(sse, common, envelope(id, "chat.completion.chunk", created), result);
                return;
            }
        } catch (IOException e) {
            ctx.attribute(OpenAiServer.DISCONNECTED_ATTRIBUTE, true); // the finally below frees its slot
        } finally {
            job.cancel(); // no effect once finished; ends the generation if the client left or the thread stopped
        }
    }

    /** Ends a stream: the usage chunk when the client asked for it (an envelope with no choices), then [DONE]. */
    private void finishStream(SseStream sse, Common common, ObjectNode usageChunk, GenerationResult result)
            throws IOException {
        if (common.includeUsage()) {
            usageChunk.putArray("choices");
            usageChunk.set("usage", usage(result));
            sse.send(usageChunk);
        }
        sse.done();
    }

    private void sendChatParts(SseStream sse, List<ToolCallParser.Event> parts, ToolCallParser.Streaming parser,
                               String id, long created, ObjectNode logprobs) throws IOException {
        int callsBefore = parser == null ? 0 : parser.callCount();
        int index = callsBefore - (int) parts.stream().filter(p -> p instanceof ToolCallParser.Call).count();
        for (ToolCallParser.Event part : parts) {
            ObjectNode delta = mapper.createObjectNode();
            switch (part) {
                case ToolCallParser.Text text -> delta.put("content", text.text());
                case ToolCallParser.Call call -> delta.putArray("tool_calls").add(toolCallJson(call.call(), index++));
            }
            sse.send(chatChunk(id, created, delta, null, logprobs));
            logprobs = null;
        }
    }

    private ObjectNode chatChunk(String id, long created, ObjectNode delta, String finish, ObjectNode logprobs) {
        ObjectNode chunk = envelope(id, "chat.completion.chunk", created);
        ObjectNode choice = chunk.putArray("choices").addObject().put("index", 0);
        choice.set("delta", delta);
        choice.set("logprobs", logprobs == null ? mapper.nullNode() : logprobs);
        choice.put("finish_reason", finish);
        return chunk;
    }

    void completion(Context ctx, BatchScheduler scheduler, RequestFields f) throws IOException, InterruptedException {
        Engine engine = scheduler.engine();
        if (f.has("n") && f.integer("n", 1, Integer.MAX_VALUE) != 1) {
            throw ApiException.invalid("only n = 1 is supported (one choice per request)", "n");
        }
        if (f.bool("echo")) {
            throw ApiException.invalid("'echo' is not supported", "echo");
        }
        if (f.has("suffix")) {
            throw ApiException.invalid("'suffix' (insertion) is not supported", "suffix");
        }
        int[] prompt = completionPrompt(f.node("prompt"), engine.tokenizer());
        Common common = common(f, engine, prompt.length);
        TrackedGeneration tracked = new TrackedGeneration(metrics, common.stream());
        BatchScheduler.Job job = scheduler.submit(prompt, common.options(), tracked);
        tracked.watch(job);
        String id = "cmpl-" + randomHex();
        long created = System.currentTimeMillis() / 1000;
        if (!common.stream()) {
            GenerationResult result = await(job);
            ctx.attribute(OpenAiServer.TOKENS_ATTRIBUTE, result.generatedTokens());
            ObjectNode response = envelope(id, "text_completion", created);
            ObjectNode choice = response.putArray("choices").addObject().put("text", result.text()).put("index", 0);
            choice.set("logprobs", common.logprobs() >= 0
                    ? completionLogprobs(result.logprobs(), engine.tokenizer()) : mapper.nullNode());
            choice.put("finish_reason", finishReason(result.finishReason()));
            response.set("usage", usage(result));
            OpenAiServer.json(ctx, 200, response, mapper);
            return;
        }
        try {
            SseStream sse = new SseStream(ctx, mapper);
            while (true) {
                TrackedGeneration.Event event = tracked.next();
                if (event instanceof TrackedGeneration.Piece piece) {
                    sse.send(completionChunk(id, created, piece.text(), null, common.logprobs() >= 0
                            ? completionLogprobs(piece.logprobs(), engine.tokenizer()) : null));
                    continue;
                }
                TrackedGeneration.End end = (TrackedGeneration.End) event;
                if (end.result() == null) {
                    sse.send(OpenAiServer.errorBody(mapper, "server_error",
                            "generation failed: " + OpenAiServer.oneLine(end.error()), null, null));
                    sse.done();
                    return;
                }
                ctx.attribute(OpenAiServer.TOKENS_ATTRIBUTE, end.result().generatedTokens());
                sse.send(completionChunk(id, created, "", finishReason(end.result().finishReason()), null));
                finishStream(sse, common, envelope(id, "text_completion", created), end.result());
                return;
            }
        } catch (IOException e) {
            ctx.attribute(OpenAiServer.DISCONNECTED_ATTRIBUTE, true); // the finally below frees its slot
        } finally {
            job.cancel(); // no effect once finished; ends the generation if the client left or the thread stopped
        }
    }

    private ObjectNode completionChunk(String id, long created, String text, String finish, ObjectNode logprobs) {
        ObjectNode chunk = envelope(id, "text_completion", created);
        ObjectNode choice = chunk.putArray("choices").addObject().put("text", text).put("index", 0);
        choice.set("logprobs", logprobs == null ? mapper.nullNode() : logprobs);
        choice.put("finish_reason", finish);
        return chunk;
    }

    /** {@code prompt}: text, an array of token ids, or an array holding one text. */
    private static int[] completionPrompt(JsonNode prompt, Tokenizer tokenizer) {
        String error = "'prompt' must be a string, an array of token ids or an array with one string";
        if (prompt == null || prompt.isNull()) {
            throw ApiException.invalid("'prompt' is required", "prompt");
        }
        if (prompt.isArray() && prompt.size() == 1 && prompt.get(0).isTextual()) {
            prompt = prompt.get(0);
        }
        if (prompt.isTextual()) {
            int[] tokens = tokenizer.encode(prompt.asText(), tokenizer.addBosByDefault(), true);
            if (tokens.length == 0) {
                throw ApiException.invalid("'prompt' is empty", "prompt");
            }
            return tokens;
        }
        if (!prompt.isArray() || prompt.isEmpty()) {
            throw ApiException.invalid(error, "prompt");
        }
        int[] tokens = new int[prompt.size()];
        for (int i = 0; i < tokens.length; i++) {
            JsonNode id = prompt.get(i);
            if (!id.isIntegralNumber() || !id.canConvertToInt()) {
                throw ApiException.invalid(error, "prompt");
            }
            tokens[i] = id.asInt();
            if (tokens[i] < 0 || tokens[i] >= tokenizer.vocabSize()) {
                throw ApiException.invalid("prompt token id " + tokens[i] + " is outside the vocabulary [0, "
                        + tokenizer.vocabSize() + ")", "prompt");
            }
        }
        return tokens;
    }

    private Common common(RequestFields f, Engine engine, int promptTokens) {
        int room = engine.contextSize() - promptTokens;
        if (room < 1) {
            throw new ApiException(400, "invalid_request_error", "the prompt has " + promptTokens
                    + " tokens but the context holds " + engine.contextSize() + " (at least one more is needed to "
                    + "generate); shorten the messages or start the server with a larger --ctx", "messages",
                    "context_length_exceeded");
        }
        Long maxTokens = f.has("max_completion_tokens") ? f.integer("max_completion_tokens", 1, Integer.MAX_VALUE)
                : f.integer("max_tokens", 1, Integer.MAX_VALUE);
        SamplingParams.Builder sampling = SamplingParams.builder();
        Double temperature = f.number("temperature", 0, 2);
        sampling.temperature(temperature == null ? 1f : temperature.floatValue());
        Double topP = f.number("top_p", 0, 1);
        if (topP != null) {
            if (topP == 0) {
                sampling.temperature(0f); // nucleus of one token: the argmax
            } else {
                sampling.topP(topP.floatValue());
            }
        }
        Long seed = f.integer("seed", Long.MIN_VALUE, Long.MAX_VALUE);
        sampling.seed(seed != null ? seed : RANDOM.nextLong());
        Double frequency = f.number("frequency_penalty", -2, 2);
        Double presence = f.number("presence_penalty", -2, 2);
        if (frequency != null) {
            sampling.frequencyPenalty(frequency.floatValue());
        }
        if (presence != null) {
            sampling.presencePenalty(presence.floatValue());
        }
        int logprobs = -1;
        JsonNode lp = f.node("logprobs");
        if (lp != null && lp.isIntegralNumber()) {
            logprobs = Math.toIntExact(f.integer("logprobs", 0, 5)); // legacy completions: alternatives to list
        } else if (f.bool("logprobs")) {
            Long top = f.integer("top_logprobs", 0, 20);
            logprobs = top == null ? 0 : top.intValue();
        } else if (f.has("top_logprobs")) {
            throw ApiException.invalid("'top_logprobs' needs 'logprobs': true", "top_logprobs");
        }
        sampling.topLogprobs(logprobs);
        boolean stream = f.bool("stream");
        JsonNode streamOptions = f.object("stream_options");
        boolean includeUsage = streamOptions != null && streamOptions.path("include_usage").asBoolean(false);
        int max = maxTokens == null ? room : maxTokens.intValue();
        GenerationOptions options = new GenerationOptions(sampling.build(), max, f.stops(), Set.of());
        return new Common(options, stream, includeUsage, logprobs);
    }

    private GenerationResult await(BatchScheduler.Job job) throws InterruptedException {
        try {
            return job.result().get();
        } catch (ExecutionException e) {
            throw new ApiException(500, "server_error", "generation failed: " + OpenAiServer.oneLine(e.getCause()),
                    null, null);
        } catch (InterruptedException e) {
            job.cancel();
            throw e;
        }
    }

    private static List<Object> onlyTool(List<Object> tools, String name) {
        for (Object tool : tools) {
            if (tool instanceof Map<?, ?> map) {
                Object function = map.containsKey("function") ? map.get("function") : map;
                if (function instanceof Map<?, ?> f && name.equals(f.get("name"))) {
                    return List.of(tool);
                }
            }
        }
        throw ApiException.invalid("'tool_choice' names function '" + name + "', which is not in 'tools'",
                "tool_choice");
    }

    private static String finishReason(FinishReason reason) {
        return switch (reason) {
            case STOP, CANCELLED -> "stop";
            case LENGTH, CONTEXT_FULL -> "length";
        };
    }

    private ObjectNode toolCallJson(ToolCall call, int index) {
        ObjectNode json = mapper.createObjectNode();
        if (index >= 0) {
            json.put("index", index);
        }
        json.put("id", call.id()).put("type", "function");
        json.putObject("function").put("name", call.name()).put("arguments", call.arguments());
        return json;
    }

    private ObjectNode envelope(String id, String object, long created) {
        return mapper.createObjectNode().put("id", id).put("object", object).put("created", created)
                .put("model", modelId);
    }

    private ObjectNode usage(GenerationResult result) {
        ObjectNode usage = mapper.createObjectNode().put("prompt_tokens", result.promptTokens())
                .put("completion_tokens", result.generatedTokens())
                .put("total_tokens", result.promptTokens() + result.generatedTokens());
        usage.putObject("prompt_tokens_details").put("cached_tokens", result.cachedPromptTokens());
        return usage;
    }

    private ObjectNode chatLogprobs(List<TokenLogprob> logprobs, Tokenizer tokenizer) {
        ObjectNode json = mapper.createObjectNode();
        ArrayNode content = json.putArray("content");
        for (TokenLogprob lp : logprobs) {
            ObjectNode entry = tokenEntry(lp.token(), lp.logprob(), tokenizer);
            ArrayNode top = entry.putArray("top_logprobs");
            lp.top().forEach(alt -> top.add(tokenEntry(alt.token(), alt.logprob(), tokenizer)));
            content.add(entry);
        }
        return json;
    }

    private ObjectNode tokenEntry(int token, float logprob, Tokenizer tokenizer) {
        ObjectNode entry = mapper.createObjectNode().put("token", tokenText(token, tokenizer)).put("logprob", logprob);
        ArrayNode bytes = entry.putArray("bytes");
        for (byte b : tokenBytes(token, tokenizer)) {
            bytes.add(b & 0xff);
        }
        return entry;
    }

    private ObjectNode completionLogprobs(List<TokenLogprob> logprobs, Tokenizer tokenizer) {
        ObjectNode json = mapper.createObjectNode();
        ArrayNode tokens = json.putArray("tokens");
        ArrayNode values = json.putArray("token_logprobs");
        ArrayNode tops = json.putArray("top_logprobs");
        ArrayNode offsets = json.putArray("text_offset");
        int offset = 0;
        for (TokenLogprob lp : logprobs) {
            String text = tokenText(lp.token(), tokenizer);
            tokens.add(text);
            values.add(lp.logprob());
            ObjectNode top = tops.addObject();
            lp.top().forEach(alt -> top.put(tokenText(alt.token(), tokenizer), alt.logprob()));
            offsets.add(offset);
            offset += text.length();
        }
        return json;
    }

    /** One token's text as generated: decoding a lone SentencePiece token drops its leading space, so restore it. */
    private static String tokenText(int token, Tokenizer tokenizer) {
        String text = tokenizer.decode(new int[] {token});
        return tokenizer.piece(token).startsWith("\u2581") && !text.startsWith(" ") ? " " + text : text;
    }

    private static byte[] tokenBytes(int token, Tokenizer tokenizer) {
        String piece = tokenizer.piece(token);
        if (piece.matches("<0x[0-9A-Fa-f]{2}>")) {
            return new byte[] {(byte) Integer.parseInt(piece.substring(3, 5), 16)};
        }
        return tokenText(token, tokenizer).getBytes(StandardCharsets.UTF_8);
    }

    private static String randomHex() {
        byte[] bytes = new byte[12];
        RANDOM.nextBytes(bytes);
        return HexFormat.of().formatHex(bytes);
    }

    /** Runs a parse step whose {@link InvalidInputException} is a 400 about {@code param}. */
    private static <T> T asInvalid(String param, java.util.function.Supplier<T> step) {
        try {
            return step.get();
        } catch (InvalidInputException e) {
            throw ApiException.invalid(e.getMessage(), param);
        }
    }
}
