package dev.nemotron4j.chat;

import com.hubspot.jinjava.interpret.JinjavaInterpreter;
import com.hubspot.jinjava.interpret.RenderResult;
import com.hubspot.jinjava.interpret.TemplateError;
import dev.nemotron4j.InvalidInputException;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * A Hugging Face chat template (Jinja), rendered with transformers' semantics so that the prompt is byte for byte
 * what {@code tokenizer.apply_chat_template(..., tokenize=False)} produces. Immutable and thread-safe.
 *
 * <p>Template variables: {@code messages} (maps with {@code role}, {@code content}, and where present
 * {@code tool_calls}, {@code tool_call_id}, {@code name}), {@code tools}, {@code contexts} (Nemotron's RAG documents),
 * {@code add_generation_prompt}, {@code bos_token}, {@code eos_token}, plus caller-supplied extras.
 */
public final class ChatTemplate {
    private static final Duration DEFAULT_RENDER_TIMEOUT = Duration.ofSeconds(10);
    private static final Set<String> RESERVED = Set.of("messages", "tools", "contexts", "add_generation_prompt");

    private final String source;
    private final String bosToken;
    private final String eosToken;
    private final boolean handlesToolCalls;
    private final Duration renderTimeout;

    private ChatTemplate(String source, String bosToken, String eosToken, Duration renderTimeout) {
        this.source = source;
        this.bosToken = bosToken;
        this.eosToken = eosToken;
        this.renderTimeout = renderTimeout;
        // A template that never mentions tool_calls (the Nemotron ones only read content) would drop them silently.
        this.handlesToolCalls = source.contains("tool_calls");
    }

    /** Compiles a template; syntax errors are reported now rather than on first use. */
    public static ChatTemplate compile(String source, String bosToken, String eosToken) {
        Objects.requireNonNull(source, "source");
        checkSyntax(source);
        return new ChatTemplate(source, bosToken == null ? "" : bosToken, eosToken == null ? "" : eosToken,
                DEFAULT_RENDER_TIMEOUT);
    }

    public static ChatTemplate compile(String source) {
        return compile(source, "", "");
    }

    public String source() {
        return source;
    }

    public String bosToken() {
        return bosToken;
    }

    public String eosToken() {
        return eosToken;
    }

    /** The same template source with other special-token strings (taken from the model's tokenizer). */
    public ChatTemplate withSpecialTokens(String bos, String eos) {
        return new ChatTemplate(source, bos == null ? "" : bos, eos == null ? "" : eos, renderTimeout);
    }

    /** The same template with another limit on render time (default 10 s); a render past it fails. */
    public ChatTemplate withRenderTimeout(Duration timeout) {
        return new ChatTemplate(source, bosToken, eosToken, Objects.requireNonNull(timeout, "timeout"));
    }

    public String render(List<ChatMessage> messages, boolean addGenerationPrompt) {
        return render(messages, null, null, addGenerationPrompt, Map.of());
    }

    /**
     * Renders the prompt.
     *
     * @param tools OpenAI tool objects ({@code {"type":"function","function":{...}}}) or bare function objects, as
     *              Jackson nodes or maps; null or empty = no tools. The template receives the bare function object:
     *              NVIDIA advises against the wrapper for Nemotron (with it the model emitted calls without a name)
     * @param contexts RAG documents for the {@code <context>} lines; null or empty = none
     * @param extraVars further template variables ({@code bos_token}/{@code eos_token} may be overridden)
     * @throws InvalidInputException when the conversation is malformed (see {@link ConversationRules})
     * @throws ChatTemplateException when the template fails or rejects the conversation
     */
    public String render(List<ChatMessage> messages, List<?> tools, List<String> contexts,
                         boolean addGenerationPrompt, Map<String, Object> extraVars) {
        ConversationRules.check(messages);
        Map<String, Object> vars = new HashMap<>();
        vars.put("bos_token", bosToken);
        vars.put("eos_token", eosToken);
        if (extraVars != null) {
            for (Map.Entry<String, Object> e : extraVars.entrySet()) {
                if (RESERVED.contains(e.getKey())) {
                    throw new InvalidInputException("template variable '" + e.getKey()
                            + "' is set from the request and cannot be passed as an extra variable");
                }
                vars.put(e.getKey(), ChatJson.toPlain(e.getValue()));
            }
        }
        vars.put("messages", messages.stream().map(this::toTemplate).toList());
        vars.put("tools", tools == null ? null : tools.stream().map(ChatTemplate::bareFunction).toList());
        vars.put("contexts", contexts == null ? null : List.copyOf(contexts));
        vars.put("add_generation_prompt", addGenerationPrompt);
        return renderGuarded(vars);
    }

    private Map<String, Object> toTemplate(ChatMessage m) {
        Map<String, Object> map = new LinkedHashMap<>();
        map.put("role", m.role());
        if (m.toolCalls().isEmpty()) {
            map.put("content", m.content() == null ? "" : m.content());
        } else if (handlesToolCalls) {
            map.put("content", m.content());
            map.put("tool_calls", m.toolCalls().stream().map(ChatTemplate::hfToolCall).toList());
        } else {
            map.put("content", withToolCallText(m));
        }
        if (m.toolCallId() != null) {
            map.put("tool_call_id", m.toolCallId());
        }
        if (m.name() != null) {
            map.put("name", m.name());
        }
        return map;
    }

    /** transformers' convention: arguments as a dict, so the template can {@code tojson} them. */
    private static Map<String, Object> hfToolCall(ToolCall call) {
        Map<String, Object> function = new LinkedHashMap<>();
        function.put("name", call.name());
        function.put("arguments", ChatJson.arguments(call));
        Map<String, Object> map = new LinkedHashMap<>();
        if (call.id() != null) {
            map.put("id", call.id());
        }
        map.put("type", "function");
        map.put("function", function);
        return map;
    }

    /**
     * The assistant turn as Nemotron-Mini generates it: {@code <toolcall> {"name": …, "arguments": {…}} </toolcall>},
     * calls back to back, after any text. Keeping history in the model's own format matters: once another format is
     * in the history the model tends to repeat it.
     */
    static String withToolCallText(ChatMessage m) {
        StringBuilder calls = new StringBuilder();
        for (ToolCall call : m.toolCalls()) {
            Map<String, Object> json = new LinkedHashMap<>();
            json.put("name", call.name());
            json.put("arguments", ChatJson.arguments(call));
            calls.append("<toolcall> ").append(PythonJson.dumps(json)).append(" </toolcall>");
        }
        String text = m.content() == null ? "" : m.content().strip();
        return text.isEmpty() ? calls.toString() : text + "\n" + calls;
    }

    /** Unwraps {@code {"type": "function", "function": {...}}} to the function object; anything else passes as is. */
    static Object bareFunction(Object tool) {
        Object plain = ChatJson.toPlain(tool);
        if (plain instanceof Map<?, ?> map && "function".equals(map.get("type")) && map.get("function") instanceof Map<?, ?> f) {
            return f;
        }
        return plain;
    }

    /** Renders on a virtual thread so that a runaway template (nested loops) is interrupted after the timeout. */
    private String renderGuarded(Map<String, Object> vars) {
        FutureTask<RenderResult> task = new FutureTask<>(() -> HfJinja.jinjava().renderForResult(source, vars));
        Thread.ofVirtual().name("chat-template").start(task);
        RenderResult result;
        try {
            result = task.get(renderTimeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            task.cancel(true);
            throw new ChatTemplateException("chat template did not finish rendering within "
                    + renderTimeout.toMillis() + " ms");
        } catch (InterruptedException e) {
            task.cancel(true);
            Thread.currentThread().interrupt();
            throw new ChatTemplateException("chat template rendering was interrupted");
        } catch (ExecutionException e) {
            throw known(e.getCause()).orElseGet(() -> new ChatTemplateException(
                    "chat template failed: " + e.getCause().getMessage()));
        }
        for (TemplateError error : result.getErrors()) {
            if (error.getSeverity() == TemplateError.ErrorType.FATAL) {
                throw known(error.getException()).orElseGet(() -> new ChatTemplateException(
                        "chat template error at line " + error.getLineno() + ": " + error.getMessage()));
            }
        }
        return result.getOutput();
    }

    /** Finds, under Jinjava's wrapping, an error this package raised itself (raise_exception, tojson, bad input). */
    private static Optional<RuntimeException> known(Throwable t) {
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (c instanceof HfJinja.TemplateRaised raised) {
                return Optional.of(new ChatTemplateException(raised.getMessage()));
            }
            if (c instanceof ChatTemplateException || c instanceof InvalidInputException) {
                return Optional.of((RuntimeException) c);
            }
        }
        return Optional.empty();
    }

    private static void checkSyntax(String source) {
        JinjavaInterpreter interpreter = HfJinja.jinjava().newInterpreter();
        try (var _ = JinjavaInterpreter.closeablePushCurrent(interpreter).get()) {
            interpreter.parse(source);
        }
        List<TemplateError> fatal = new ArrayList<>();
        for (TemplateError e : interpreter.getErrors()) {
            if (e.getSeverity() == TemplateError.ErrorType.FATAL) {
                fatal.add(e);
            }
        }
        if (!fatal.isEmpty()) {
            TemplateError first = fatal.getFirst();
            throw new ChatTemplateException("chat template syntax error at line " + first.getLineno() + ": "
                    + first.getMessage());
        }
    }
}
