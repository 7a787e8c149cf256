package dev.nemotron4j.chat;

import dev.nemotron4j.InvalidInputException;

import java.util.List;
import java.util.Set;

/**
 * Checks a conversation before it reaches a template, because templates either ignore malformed turns silently
 * (the Nemotron template skips unknown roles and any system turn after the first) or fail with obscure errors.
 * Rules: at least one message; roles are system, user, assistant or tool; a system message only comes first;
 * a tool result follows an assistant turn (its call) or another tool result; only an assistant turn may lack content.
 */
final class ConversationRules {
    private static final Set<String> ROLES = Set.of(ChatMessage.SYSTEM, ChatMessage.USER, ChatMessage.ASSISTANT,
            ChatMessage.TOOL);

    private ConversationRules() {
    }

    static void check(List<ChatMessage> messages) {
        if (messages == null || messages.isEmpty()) {
            throw new InvalidInputException("the conversation has no messages");
        }
        for (int i = 0; i < messages.size(); i++) {
            ChatMessage m = messages.get(i);
            String where = "messages[" + i + "]";
            if (!ROLES.contains(m.role())) {
                throw new InvalidInputException(where + " has unknown role '" + m.role()
                        + "' (expected system, user, assistant or tool)");
            }
            if (m.role().equals(ChatMessage.SYSTEM) && i > 0) {
                throw new InvalidInputException(where + ": a system message may only be the first message");
            }
            if (m.role().equals(ChatMessage.TOOL)) {
                String previous = i == 0 ? null : messages.get(i - 1).role();
                if (!ChatMessage.ASSISTANT.equals(previous) && !ChatMessage.TOOL.equals(previous)) {
                    throw new InvalidInputException(where + ": a tool result must follow the assistant's tool call"
                            + " or another tool result");
                }
            }
            if (!m.toolCalls().isEmpty() && !m.role().equals(ChatMessage.ASSISTANT)) {
                throw new InvalidInputException(where + ": only assistant messages can have tool calls");
            }
            if (m.content() == null && !m.role().equals(ChatMessage.ASSISTANT)) {
                throw new InvalidInputException(where + " (" + m.role() + ") has no content");
            }
        }
    }
}
