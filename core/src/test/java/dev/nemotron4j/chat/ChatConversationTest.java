package dev.nemotron4j.chat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.nemotron4j.InvalidInputException;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Tools, tool calls, RAG contexts, conversation checks and template sources. */
class ChatConversationTest {
    private static final ChatTemplate NEMOTRON = ChatTemplates.builtinNemotron();
    private static final String WEATHER = """
            {"name": "get_current_weather", "description": "Get the current weather", "parameters": {"type": "object",
             "properties": {"location": {"type": "string", "description": "The city and state"}}, "required": ["location"]}}""";

    private static JsonNode kwargs(String name) throws IOException {
        return ChatTemplateRendersTest.renders().get(name);
    }

    @Test
    void openAiToolWrapperIsUnwrapped() throws IOException {
        JsonNode reference = kwargs("4_tools");
        List<Object> wrapped = ChatJson.tools(ChatJson.parse("[{\"type\": \"function\", \"function\": " + WEATHER + "}]", "tools"));
        String rendered = NEMOTRON.render(ChatJson.messages(reference.at("/kwargs/messages")), wrapped, null, true, Map.of());
        assertEquals(reference.get("render_post4").asText(), rendered);
    }

    @Test
    void toolCallsRenderAsTheModelEmitsThem() throws IOException {
        JsonNode reference = kwargs("5_tool_result");
        String messages = """
                [{"role": "system", "content": "You are a helpful assistant."},
                 {"role": "user", "content": "What is the weather like in Beijing now?"},
                 {"role": "assistant", "content": null, "tool_calls": [{"id": "call_1", "type": "function",
                   "function": {"name": "get_current_weather", "arguments": "{\\"location\\": \\"Beijing\\"}"}}]},
                 {"role": "tool", "tool_call_id": "call_1", "content": "{\\"temperature\\": 21, \\"unit\\": \\"celsius\\"}"}]""";
        List<Object> tools = ChatJson.tools(ChatJson.parse("[" + WEATHER + "]", "tools"));
        assertEquals(reference.get("render_post4").asText(),
                NEMOTRON.render(ChatJson.messages(ChatJson.parse(messages, "messages")), tools, null, true, Map.of()));
    }

    @Test
    void severalToolCallsFollowEachOther() {
        ChatMessage calls = ChatMessage.assistantToolCalls(List.of(ToolCall.of("open_door", "{\"door\": \"north\"}"),
                ToolCall.of("say", "{\"text\":\"Stand back!\"}")));
        assertEquals("<toolcall> {\"name\": \"open_door\", \"arguments\": {\"door\": \"north\"}} </toolcall>"
                        + "<toolcall> {\"name\": \"say\", \"arguments\": {\"text\": \"Stand back!\"}} </toolcall>",
                ChatTemplate.withToolCallText(calls));
    }

    @Test
    void templatesThatReadToolCallsGetThemStructured() {
        ChatTemplate t = ChatTemplate.compile("{% for m in messages %}{% for c in m.tool_calls %}"
                + "{{ c.function.name }}{{ c.function.arguments|tojson }}{% endfor %}{% endfor %}");
        ChatMessage calls = ChatMessage.assistantToolCalls(List.of(ToolCall.of("say", "{\"text\":\"hé\"}")));
        assertEquals("say{\"text\": \"hé\"}", t.render(List.of(ChatMessage.user("hi"), calls), false));
    }

    @Test
    void contextsAndToolsTogether() {
        List<Object> tools = ChatJson.tools(ChatJson.parse("[" + WEATHER + "]", "tools"));
        String rendered = NEMOTRON.render(List.of(ChatMessage.system(" You are Brom, the smith. "),
                        ChatMessage.user("Who made this sword?")), tools,
                List.of("  The sword was forged by Brom.\n", "Brom lives in Riverwood."), true, Map.of());
        assertEquals("<extra_id_0>System\nYou are Brom, the smith.\n\n<tool> " + PythonJson.dumps(ChatJson.toPlain(
                        ChatJson.parse(WEATHER, "tool"))) + " </tool>\n\n<context> The sword was forged by Brom. </context>"
                        + "\n<context> Brom lives in Riverwood. </context>\n\n<extra_id_1>User\nWho made this sword?\n"
                        + "<extra_id_1>Assistant\n", rendered);
    }

    @Test
    void malformedConversationsAreRejected() {
        assertThrows(InvalidInputException.class, () -> NEMOTRON.render(List.of(), true));
        InvalidInputException role = assertThrows(InvalidInputException.class,
                () -> NEMOTRON.render(List.of(new ChatMessage("narrator", "x")), true));
        assertTrue(role.getMessage().contains("narrator"), role.getMessage());
        assertThrows(InvalidInputException.class, () -> NEMOTRON.render(
                List.of(ChatMessage.user("a"), ChatMessage.system("late")), true));
        assertThrows(InvalidInputException.class, () -> NEMOTRON.render(
                List.of(ChatMessage.user("a"), ChatMessage.tool("{}", null)), true));
        assertThrows(InvalidInputException.class, () -> NEMOTRON.render(List.of(new ChatMessage("user", null)), true));
        InvalidInputException json = assertThrows(InvalidInputException.class,
                () -> ChatJson.messages(ChatJson.parse("[{\"content\": \"x\"}]", "messages")));
        assertEquals("messages[0].role must be a string", json.getMessage());
        InvalidInputException args = assertThrows(InvalidInputException.class, () -> NEMOTRON.render(List.of(
                ChatMessage.user("a"), ChatMessage.assistantToolCalls(List.of(ToolCall.of("f", "{oops")))), true));
        assertTrue(args.getMessage().contains("'f'"), args.getMessage());
    }

    @Test
    void badJsonIsOneLine() {
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> ChatJson.parse("[{\"role\": }]", "messages.json"));
        assertTrue(e.getMessage().startsWith("messages.json is not valid JSON at line 1"), e.getMessage());
        assertTrue(!e.getMessage().contains("\n"), e.getMessage());
    }

    @Test
    void templateSources() throws IOException {
        Path shared = Path.of(System.getProperty("nemotron4j.shared"));
        String revision51918b8 = Files.readString(ChatTemplateRendersTest.DIR.resolve("chat_template.51918b8.jinja"));
        ChatTemplate hf = ChatTemplates.forModel(shared.resolve("tokenizer/tekken-tiny"));
        assertEquals(revision51918b8, hf.source());
        assertEquals("<s>", hf.bosToken());
        assertEquals("</s>", hf.eosToken());
        ChatTemplate gguf = ChatTemplates.forModel(shared.resolve("scripted/greeting.gguf"));
        assertEquals(NEMOTRON.source(), gguf.source());
        assertEquals("</s>", gguf.eosToken());
        assertEquals(NEMOTRON.source(), ChatTemplates.forModel(shared.resolve("golden/tiny-mistral/hf")).source());
        assertEquals(NEMOTRON.source(),
                ChatTemplates.forModel(shared.resolve("golden/tiny-nemotron/gguf/tiny-nemotron-f32.gguf")).source());
        assertEquals(revision51918b8, ChatTemplates.fromFile(ChatTemplateRendersTest.DIR.resolve("chat_template.51918b8.jinja")).source());
    }

    @Test
    void namedTemplateListPicksDefault() {
        JsonNode named = ChatJson.parse("[{\"name\": \"tool_use\", \"template\": \"T\"}, {\"name\": \"default\", \"template\": \"D\"}]", "x");
        assertEquals("D", ChatTemplates.templateSource(named, Path.of("tokenizer_config.json")));
    }
}
