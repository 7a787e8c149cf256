package dev.nemotron4j.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TemplateCommandTest {
    private static final Path SHARED = Path.of(System.getProperty("nemotron4j.shared"));
    private static final Path TEMPLATES = SHARED.resolve("chat-templates/nemotron-mini-4b-instruct");

    @TempDir
    Path dir;

    private Path file(String name, String text) throws IOException {
        return Files.writeString(dir.resolve(name), text);
    }

    @Test
    void printsThePromptExactly() throws IOException {
        Path messages = file("m.json", "[{\"role\": \"system\", \"content\": \"Answer using the context.\"},"
                + " {\"role\": \"user\", \"content\": \"Who wrote it?\"}]");
        Path contexts = file("c.json", "[\"The book was written by Jane Doe in 1999.\"]");
        CliRun run = CliRun.of("template", "--model", SHARED.resolve("golden/tiny-nemotron/gguf/tiny-nemotron-f32.gguf").toString(),
                "--messages", messages.toString(), "--contexts", contexts.toString());
        assertEquals(0, run.code(), run.err());
        assertEquals("<extra_id_0>System\nAnswer using the context.\n\n<context> The book was written by Jane Doe in 1999. "
                + "</context>\n\n<extra_id_1>User\nWho wrote it?\n<extra_id_1>Assistant\n", run.out());
    }

    @Test
    void templateFileToolsAndNoGenerationPrompt() throws IOException {
        Path messages = file("m.json", "[{\"role\": \"user\", \"content\": \"Schmiede? 🔥\"}]");
        Path tools = file("t.json", "[{\"type\": \"function\", \"function\": {\"name\": \"say\", \"parameters\": {}}}]");
        CliRun run = CliRun.of("template", "--template", TEMPLATES.resolve("chat_template.6a41779.RECONSTRUCTED.jinja").toString(),
                "--messages", messages.toString(), "--tools", tools.toString(), "--no-generation-prompt");
        assertEquals(0, run.code(), run.err());
        assertEquals("<extra_id_0>System\n<tool> {\"name\": \"say\", \"parameters\": {}} </tool>\n\n"
                + "<extra_id_1>User\nSchmiede? 🔥\n", run.out());
    }

    @Test
    void badJsonIsAOneLineError() throws IOException {
        Path messages = file("m.json", "[{\"role\": \"user\", \"content\": }]");
        CliRun run = CliRun.of("template", "--model", SHARED.resolve("tokenizer/tekken-tiny").toString(),
                "--messages", messages.toString());
        assertEquals(1, run.code());
        String error = run.err().strip();
        assertTrue(error.startsWith("error: messages file ") && error.contains("is not valid JSON at line 1"), error);
        assertEquals(1, error.lines().count(), error);
        assertEquals("", run.out());
    }

    @Test
    void malformedConversationIsAOneLineError() throws IOException {
        Path messages = file("m.json", "[{\"role\": \"user\", \"content\": \"a\"}, {\"role\": \"system\", \"content\": \"b\"}]");
        CliRun run = CliRun.of("template", "--model", SHARED.resolve("tokenizer/tekken-tiny").toString(),
                "--messages", messages.toString());
        assertEquals(1, run.code());
        assertEquals("error: messages[1]: a system message may only be the first message",
                run.err().strip());
    }
}
