package dev.nemotron4j.chat;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.List;

/**
 * Finds Nemotron's function calls in generated text: {@code <toolcall> {"name": …, "arguments": {…}} </toolcall>}
 * (specs.md E.1). The JSON may be pretty-printed or have a leading space, several calls may follow one another, a
 * call may be an array of such objects, and the closing tag may be missing at the end of generation. A call whose
 * JSON cannot be read is kept as text (with its tags) and marks the result {@linkplain Parsed#malformed malformed},
 * so a caller never loses what the model said.
 * <p>
 * {@link #parse} works on a whole answer; {@link Streaming} works on pieces as they are generated and never releases
 * text that could still turn out to be the start of a {@code <toolcall>} tag, even when the tag arrives split.
 */
public final class ToolCallParser {
    public static final String OPEN = "<toolcall>";
    public static final String CLOSE = "</toolcall>";

    private static final ObjectMapper STRICT = new ObjectMapper()
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final String ID_ALPHABET = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

    private ToolCallParser() {
    }

    /**
     * An answer split into text and calls.
     *
     * @param content   the text outside the calls (null when there were calls and only whitespace besides)
     * @param malformed a {@code <toolcall>} block could not be read and was left in {@code content}
     */
    public record Parsed(String content, List<ToolCall> calls, boolean malformed) {
    }

    /** What the streaming parser releases: final text, or one complete call. */
    public sealed interface Event permits Text, Call {
    }

    public record Text(String text) implements Event {
    }

    public record Call(ToolCall call) implements Event {
    }

    /** Parses a complete answer. */
    public static Parsed parse(String text) {
        Streaming parser = new Streaming();
        StringBuilder content = new StringBuilder();
        List<ToolCall> calls = new ArrayList<>();
        List<Event> events = new ArrayList<>(parser.push(text));
        events.addAll(parser.finish());
        for (Event e : events) {
            switch (e) {
                case Text t -> content.append(t.text());
                case Call c -> calls.add(c.call());
            }
        }
        String out = calls.isEmpty() || !content.toString().isBlank() ? content.toString().strip() : null;
        return new Parsed(out, List.copyOf(calls), parser.malformed());
    }

    /** A fresh OpenAI-style call id, {@code call_} and 24 random letters and digits. */
    public static String newCallId() {
        StringBuilder id = new StringBuilder("call_");
        for (int i = 0; i < 24; i++) {
            id.append(ID_ALPHABET.charAt(RANDOM.nextInt(ID_ALPHABET.length())));
        }
        return id.toString();
    }

    /**
     * Incremental parser: feed generated text with {@link #push}, then call {@link #finish} once. Whitespace-only
     * text is released only when more text follows, so the blanks a model puts around its calls never show up as
     * content of a tool-calling answer.
     */
    public static final class Streaming {
        private final StringBuilder buffer = new StringBuilder();
        private final StringBuilder blank = new StringBuilder();
        private boolean inside;
        private boolean malformed;
        private int calls;

        public List<Event> push(String piece) {
            buffer.append(piece);
            List<Event> out = new ArrayList<>();
            while (true) {
                if (!inside) {
                    int open = buffer.indexOf(OPEN);
                    if (open < 0) {
                        int keep = partialOpenAtEnd();
                        text(out, buffer.substring(0, buffer.length() - keep));
                        buffer.delete(0, buffer.length() - keep);
                        return out;
                    }
                    text(out, buffer.substring(0, open));
                    buffer.delete(0, open + OPEN.length());
                    inside = true;
                } else {
                    int close = buffer.indexOf(CLOSE);
                    if (close < 0) {
                        return out;
                    }
                    block(out, buffer.substring(0, close), true);
                    buffer.delete(0, close + CLOSE.length());
                    inside = false;
                }
            }
        }

        /** Ends the text: an unclosed call is read as if closed; held-back text is released. */
        public List<Event> finish() {
            List<Event> out = new ArrayList<>();
            if (inside) {
                block(out, buffer.toString(), false);
                inside = false;
            } else {
                text(out, buffer.toString());
            }
            buffer.setLength(0);
            if (calls == 0 && !blank.isEmpty()) {
                out.add(new Text(blank.toString()));
            }
            blank.setLength(0);
            return out;
        }

        /** True once a call block could not be read (it was released as text). */
        public boolean malformed() {
            return malformed;
        }

        /** Calls released so far. */
        public int callCount() {
            return calls;
        }

        private void text(List<Event> out, String text) {
            if (text.isEmpty()) {
                return;
            }
            if (text.isBlank()) {
                blank.append(text);
                return;
            }
            String withBlank = blank + text;
            blank.setLength(0);
            out.add(new Text(withBlank));
        }

        private void block(List<Event> out, String json, boolean closed) {
            List<ToolCall> parsed = readCalls(json);
            if (parsed == null) {
                malformed = true;
                text(out, OPEN + json + (closed ? CLOSE : ""));
                return;
            }
            blank.setLength(0);
            for (ToolCall call : parsed) {
                out.add(new Call(call));
                calls++;
            }
        }

        /** Length of the longest end of the buffer that is a proper prefix of the opening tag. */
        private int partialOpenAtEnd() {
            String tail = buffer.substring(Math.max(0, buffer.length() - OPEN.length() + 1));
            for (int len = tail.length(); len > 0; len--) {
                if (tail.regionMatches(tail.length() - len, OPEN, 0, len)) {
                    return len;
                }
            }
            return 0;
        }
    }

    /** The calls in one block's JSON (an object or an array of objects), or null when it is not such JSON. */
    private static List<ToolCall> readCalls(String json) {
        JsonNode node;
        try {
            node = STRICT.readTree(json.strip());
        } catch (JsonProcessingException e) {
            return null;
        }
        if (node == null) {
            return null;
        }
        List<ToolCall> calls = new ArrayList<>();
        if (node.isArray() && !node.isEmpty()) {
            for (JsonNode element : node) {
                ToolCall call = readCall(element);
                if (call == null) {
                    return null;
                }
                calls.add(call);
            }
            return calls;
        }
        ToolCall call = readCall(node);
        return call == null ? null : List.of(call);
    }

    private static ToolCall readCall(JsonNode node) {
        if (!node.isObject() || !node.path("name").isTextual() || node.get("name").asText().isBlank()) {
            return null;
        }
        JsonNode arguments = node.get("arguments");
        String argumentsJson;
        if (arguments == null || arguments.isNull()) {
            argumentsJson = "{}";
        } else if (arguments.isObject()) {
            argumentsJson = arguments.toString();
        } else if (arguments.isTextual() && isJsonObject(arguments.asText())) {
            argumentsJson = arguments.asText();
        } else {
            return null;
        }
        return new ToolCall(newCallId(), node.get("name").asText(), argumentsJson);
    }

    private static boolean isJsonObject(String text) {
        try {
            JsonNode node = STRICT.readTree(text);
            return node != null && node.isObject();
        } catch (JsonProcessingException e) {
            return false;
        }
    }
}
