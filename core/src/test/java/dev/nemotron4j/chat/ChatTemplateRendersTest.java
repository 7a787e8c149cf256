package dev.nemotron4j.chat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Every reference render of shared/chat-templates (jinja2 + transformers' environment), byte for byte. */
class ChatTemplateRendersTest {
    static final Path DIR = Path.of(System.getProperty("nemotron4j.shared"), "chat-templates",
            "nemotron-mini-4b-instruct");

    static ChatTemplate template(String file) throws IOException {
        return ChatTemplate.compile(Files.readString(DIR.resolve(file)));
    }

    static JsonNode renders() throws IOException {
        return new ObjectMapper().readTree(DIR.resolve("chat_template_renders.json").toFile());
    }

    static String render(ChatTemplate template, JsonNode kwargs) {
        List<String> contexts = kwargs.has("contexts") ? ChatJson.contexts(kwargs.get("contexts")) : null;
        List<Object> tools = kwargs.has("tools") ? ChatJson.tools(kwargs.get("tools")) : null;
        return template.render(ChatJson.messages(kwargs.get("messages")), tools, contexts,
                kwargs.get("add_generation_prompt").asBoolean(), Map.of());
    }

    private static List<DynamicTest> cases(ChatTemplate template, String field) throws IOException {
        List<DynamicTest> tests = new ArrayList<>();
        for (Map.Entry<String, JsonNode> c : renders().properties()) {
            tests.add(DynamicTest.dynamicTest(c.getKey(), () ->
                    assertEquals(c.getValue().get(field).asText(), render(template, c.getValue().get("kwargs")))));
        }
        return tests;
    }

    @TestFactory
    List<DynamicTest> revision51918b8() throws IOException {
        return cases(template("chat_template.51918b8.jinja"), "render_51918b8");
    }

    @TestFactory
    List<DynamicTest> revision6a41779() throws IOException {
        return cases(template("chat_template.6a41779.RECONSTRUCTED.jinja"), "render_post4");
    }

    @TestFactory
    List<DynamicTest> builtinMatchesCurrentRevision() throws IOException {
        return cases(ChatTemplates.builtinNemotron(), "render_post4");
    }

    @Test
    void builtinSourceIsTheCurrentRevision() throws IOException {
        assertEquals(Files.readString(DIR.resolve("chat_template.6a41779.RECONSTRUCTED.jinja")),
                ChatTemplates.builtinNemotron().source());
    }
}
