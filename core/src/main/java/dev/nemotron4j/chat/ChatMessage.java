package dev.nemotron4j.chat;

import java.util.List;
import java.util.Objects;

/**
 * One turn of a conversation, shaped like an OpenAI chat message. {@code role} is {@code system}, {@code user},
 * {@code assistant} or {@code tool} (checked when rendering, so that parsed input can be reported with its position);
 * {@code content} may be null only for an assistant turn that just calls tools. {@code toolCalls} (assistant),
 * {@code toolCallId} (tool result) and {@code name} are optional.
 */
public record ChatMessage(String role, String content, List<ToolCall> toolCalls, String toolCallId, String name) {
    public static final String SYSTEM = "system";
    public static final String USER = "user";
    public static final String ASSISTANT = "assistant";
    public static final String TOOL = "tool";

    public ChatMessage {
        Objects.requireNonNull(role, "role");
        toolCalls = toolCalls == null ? List.of() : List.copyOf(toolCalls);
    }

    public ChatMessage(String role, String content) {
        this(role, content, List.of(), null, null);
    }

    public static ChatMessage system(String content) {
        return new ChatMessage(SYSTEM, content);
    }

    public static ChatMessage user(String content) {
        return new ChatMessage(USER, content);
    }

    public static ChatMessage assistant(String content) {
        return new ChatMessage(ASSISTANT, content);
    }

    /** An assistant turn that calls tools (as parsed from the model's {@code <toolcall>} output). */
    public static ChatMessage assistantToolCalls(List<ToolCall> calls) {
        return new ChatMessage(ASSISTANT, null, calls, null, null);
    }

    /** A tool result; {@code toolCallId} may be null. */
    public static ChatMessage tool(String content, String toolCallId) {
        return new ChatMessage(TOOL, content, List.of(), toolCallId, null);
    }
}
