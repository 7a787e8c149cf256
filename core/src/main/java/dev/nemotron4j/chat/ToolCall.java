package dev.nemotron4j.chat;

import java.util.Objects;

/**
 * One function call made by the assistant, OpenAI style: {@code arguments} is the JSON text of the argument object
 * (as OpenAI's API carries it); {@code id} may be null (Nemotron's {@code <toolcall>} format has no ids).
 */
public record ToolCall(String id, String name, String arguments) {
    public ToolCall {
        Objects.requireNonNull(name, "name");
        arguments = arguments == null || arguments.isBlank() ? "{}" : arguments;
    }

    public static ToolCall of(String name, String arguments) {
        return new ToolCall(null, name, arguments);
    }
}
