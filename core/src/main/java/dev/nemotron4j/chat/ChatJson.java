package dev.nemotron4j.chat;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import dev.nemotron4j.InvalidInputException;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads OpenAI-style chat JSON: message arrays, tool lists and RAG context lists. Errors name the element
 * ({@code messages[2].role}) and arrive as {@link InvalidInputException} with a one-line message.
 */
public final class ChatJson {
    private static final ObjectMapper MAPPER = new ObjectMapper();

    private ChatJson() {
    }

    /** Parses JSON text; {@code what} names it in errors ("messages file x.json"). */
    public static JsonNode parse(String json, String what) {
        try {
            return MAPPER.readTree(json);
        } catch (JsonProcessingException e) {
            String where = e.getLocation() == null ? ""
                    : " at line " + e.getLocation().getLineNr() + ", column " + e.getLocation().getColumnNr();
            throw new InvalidInputException(what + " is not valid JSON" + where + ": "
                    + e.getOriginalMessage().replaceAll("\\s+", " "));
        }
    }

    /** An array of {@code {"role", "content", "tool_calls", "tool_call_id", "name"}} objects. */
    public static List<ChatMessage> messages(JsonNode array) {
        requireArray(array, "messages");
        List<ChatMessage> messages = new ArrayList<>();
        for (int i = 0; i < array.size(); i++) {
            messages.add(message(array.get(i), "messages[" + i + "]"));
        }
        return messages;
    }

    /** The inverse of {@link #messages}: OpenAI-style message objects. */
    public static ArrayNode toJson(List<ChatMessage> messages) {
        var array = MAPPER.createArrayNode();
        for (ChatMessage m : messages) {
            var node = array.addObject();
            node.put("role", m.role());
            node.put("content", m.content());
            if (!m.toolCalls().isEmpty()) {
                var calls = node.putArray("tool_calls");
                for (ToolCall call : m.toolCalls()) {
                    var c = calls.addObject();
                    c.put("id", call.id());
                    c.put("type", "function");
                    c.putObject("function").put("name", call.name()).put("arguments", call.arguments());
                }
            }
            if (m.toolCallId() != null) {
                node.put("tool_call_id", m.toolCallId());
            }
            if (m.name() != null) {
                node.put("name", m.name());
            }
        }
        return array;
    }

    private static ChatMessage message(JsonNode node, String where) {
        if (!node.isObject()) {
            throw new InvalidInputException(where + " must be an object");
        }
        JsonNode role = node.get("role");
        if (role == null || !role.isTextual()) {
            throw new InvalidInputException(where + ".role must be a string");
        }
        List<ToolCall> calls = new ArrayList<>();
        JsonNode toolCalls = node.get("tool_calls");
        if (toolCalls != null && !toolCalls.isNull()) {
            requireArray(toolCalls, where + ".tool_calls");
            for (int i = 0; i < toolCalls.size(); i++) {
                calls.add(toolCall(toolCalls.get(i), where + ".tool_calls[" + i + "]"));
            }
        }
        return new ChatMessage(role.asText(), content(node.get("content"), where + ".content"), calls,
                optionalText(node, "tool_call_id", where), optionalText(node, "name", where));
    }

    /** Content is a string, null, or OpenAI's list of parts of which only text parts can go into a text prompt. */
    private static String content(JsonNode content, String where) {
        if (content == null || content.isNull()) {
            return null;
        }
        if (content.isTextual()) {
            return content.asText();
        }
        if (content.isArray()) {
            StringBuilder text = new StringBuilder();
            for (JsonNode part : content) {
                if (!"text".equals(part.path("type").asText()) || !part.path("text").isTextual()) {
                    throw new InvalidInputException(where + ": only text parts are supported, got "
                            + part.path("type").asText("a non-text part"));
                }
                text.append(part.get("text").asText());
            }
            return text.toString();
        }
        throw new InvalidInputException(where + " must be a string, null or a list of text parts");
    }

    /** Accepts OpenAI's {@code {"id", "type", "function": {"name", "arguments"}}} and the bare {@code {"name", "arguments"}}. */
    private static ToolCall toolCall(JsonNode node, String where) {
        JsonNode function = node.has("function") ? node.get("function") : node;
        JsonNode name = function.get("name");
        if (name == null || !name.isTextual()) {
            throw new InvalidInputException(where + ": the function name is missing");
        }
        JsonNode arguments = function.get("arguments");
        String argumentsJson = arguments == null || arguments.isNull() ? "{}"
                : arguments.isTextual() ? arguments.asText() : arguments.toString();
        return new ToolCall(optionalText(node, "id", where), name.asText(), argumentsJson);
    }

    private static String optionalText(JsonNode node, String field, String where) {
        JsonNode value = node.get(field);
        if (value == null || value.isNull()) {
            return null;
        }
        if (!value.isTextual()) {
            throw new InvalidInputException(where + "." + field + " must be a string");
        }
        return value.asText();
    }

    /** A tool list: OpenAI function objects (wrapped or bare), kept as ordered maps so {@code tojson} keeps key order. */
    public static List<Object> tools(JsonNode array) {
        requireArray(array, "tools");
        List<Object> tools = new ArrayList<>();
        for (int i = 0; i < array.size(); i++) {
            if (!array.get(i).isObject()) {
                throw new InvalidInputException("tools[" + i + "] must be an object");
            }
            tools.add(toPlain(array.get(i)));
        }
        return tools;
    }

    /** RAG documents: an array of strings. */
    public static List<String> contexts(JsonNode array) {
        requireArray(array, "contexts");
        List<String> contexts = new ArrayList<>();
        for (int i = 0; i < array.size(); i++) {
            if (!array.get(i).isTextual()) {
                throw new InvalidInputException("contexts[" + i + "] must be a string");
            }
            contexts.add(array.get(i).asText());
        }
        return contexts;
    }

    /**
     * Deep copy of JSON values (Jackson nodes, maps, lists) into plain Java values for the template: ordered maps,
     * lists, strings, numbers, booleans, null.
     */
    public static Object toPlain(Object value) {
        return switch (value) {
            case null -> null;
            case JsonNode node when node.isObject() -> {
                Map<String, Object> map = new LinkedHashMap<>();
                for (Map.Entry<String, JsonNode> e : node.properties()) {
                    map.put(e.getKey(), toPlain(e.getValue()));
                }
                yield map;
            }
            case JsonNode node when node.isArray() -> {
                List<Object> list = new ArrayList<>();
                node.forEach(n -> list.add(toPlain(n)));
                yield list;
            }
            case JsonNode node when node.isNull() || node.isMissingNode() -> null;
            case JsonNode node when node.isTextual() -> node.asText();
            case JsonNode node when node.isBoolean() -> node.asBoolean();
            case JsonNode node when node.isNumber() -> node.numberValue();
            case JsonNode node -> node.toString();
            case Map<?, ?> map -> {
                Map<String, Object> copy = new LinkedHashMap<>();
                map.forEach((k, v) -> copy.put(String.valueOf(k), toPlain(v)));
                yield copy;
            }
            case Iterable<?> items -> {
                List<Object> list = new ArrayList<>();
                items.forEach(o -> list.add(toPlain(o)));
                yield list;
            }
            default -> value;
        };
    }

    /** The arguments JSON of a tool call as an ordered map (or whatever JSON value it holds). */
    static Object arguments(ToolCall call) {
        try {
            return toPlain(MAPPER.readTree(call.arguments()));
        } catch (JsonProcessingException e) {
            throw new InvalidInputException("arguments of tool call '" + call.name() + "' are not valid JSON: "
                    + e.getOriginalMessage().replaceAll("\\s+", " "));
        }
    }

    private static void requireArray(JsonNode node, String what) {
        if (node == null || !node.isArray()) {
            throw new InvalidInputException(what + " must be a JSON array");
        }
    }
}
