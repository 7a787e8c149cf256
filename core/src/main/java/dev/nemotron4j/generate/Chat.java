package dev.nemotron4j.generate;

import dev.nemotron4j.chat.ChatMessage;
import dev.nemotron4j.model.InferenceState;

import java.util.ArrayList;
import java.util.List;

/**
 * A conversation with the model: its messages, optional tools and RAG documents, and the sequence state that caches
 * the evaluated prompt between turns. Not thread-safe: use one chat per conversation (NPC), many chats per engine.
 */
public final class Chat {
    private final Engine engine;
    private final List<ChatMessage> messages = new ArrayList<>();
    private List<?> tools = List.of();
    private List<String> contexts = List.of();
    private InferenceState state;

    Chat(Engine engine) {
        this.engine = engine;
    }

    /** Sets (or replaces) the system prompt. */
    public Chat system(String text) {
        if (!messages.isEmpty() && messages.get(0).role().equals(ChatMessage.SYSTEM)) {
            messages.set(0, ChatMessage.system(text));
        } else {
            messages.add(0, ChatMessage.system(text));
        }
        return this;
    }

    /** OpenAI-style function definitions the model may call. */
    public Chat tools(List<?> toolDefinitions) {
        this.tools = List.copyOf(toolDefinitions);
        return this;
    }

    /** Documents the answer should be grounded in (rendered as the template's context blocks). */
    public Chat contexts(List<String> documents) {
        this.contexts = List.copyOf(documents);
        return this;
    }

    public Chat add(ChatMessage message) {
        messages.add(message);
        return this;
    }

    /** Replaces the whole conversation, e.g. with one saved earlier. */
    public Chat messages(List<ChatMessage> conversation) {
        messages.clear();
        messages.addAll(conversation);
        return this;
    }

    public List<ChatMessage> messages() {
        return List.copyOf(messages);
    }

    /** Forgets every message except the system prompt. */
    public void reset() {
        messages.removeIf(m -> !m.role().equals(ChatMessage.SYSTEM));
    }

    /** Adds a user message and prepares the assistant's answer; the answer joins the history when it ends. */
    public Generation send(String userText, GenerationOptions options) {
        add(ChatMessage.user(userText));
        return respond(options);
    }

    /** Prepares the assistant's turn for the current messages (e.g. after adding a tool result). */
    public Generation respond(GenerationOptions options) {
        int[] prompt = engine.chatPrompt(messages, tools, contexts);
        GenerationOptions withStops = engine.chatOptions(options);
        return new Generation((listener, cancelled) -> {
            if (state == null) {
                state = engine.model().newState(engine.contextSize());
            }
            GenerationResult result = engine.generator().generate(state, prompt, withStops, listener, cancelled);
            messages.add(ChatMessage.assistant(result.text().strip()));
            return result;
        });
    }
}
