package dev.nemotron4j.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.nemotron4j.InvalidInputException;
import dev.nemotron4j.chat.ChatJson;
import dev.nemotron4j.chat.ChatMessage;
import dev.nemotron4j.chat.ChatTemplate;
import dev.nemotron4j.chat.ChatTemplates;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code nemotron4j template}: prints the prompt a chat template renders for a conversation, byte for byte. */
@Command(name = "template", mixinStandardHelpOptions = true,
        description = "Render a chat prompt with a model's chat template (or a template file) and print it exactly.")
public final class TemplateCommand implements Callable<Integer> {

    static final class Source {
        @Option(names = "--model", paramLabel = "PATH",
                description = "GGUF file or Hugging Face model directory; without a template the built-in Nemotron one is used")
        Path model;

        @Option(names = "--template", paramLabel = "FILE", description = "Jinja chat template file")
        Path template;
    }

    @ArgGroup(exclusive = true, multiplicity = "1")
    Source source;

    @Option(names = "--messages", required = true, paramLabel = "FILE",
            description = "JSON array of OpenAI-style messages (role, content, tool_calls, tool_call_id)")
    Path messages;

    @Option(names = "--tools", paramLabel = "FILE", description = "JSON array of tools (OpenAI function objects)")
    Path tools;

    @Option(names = "--contexts", paramLabel = "FILE", description = "JSON array of strings: documents for RAG")
    Path contexts;

    @Option(names = "--no-generation-prompt", description = "Do not end with the assistant turn header")
    boolean noGenerationPrompt;

    @Override
    public Integer call() {
        ChatTemplate template = source.model != null ? ChatTemplates.forModel(source.model)
                : ChatTemplates.fromFile(source.template);
        List<ChatMessage> conversation = ChatJson.messages(json(messages, "messages"));
        List<Object> toolList = tools == null ? null : ChatJson.tools(json(tools, "tools"));
        List<String> contextList = contexts == null ? null : ChatJson.contexts(json(contexts, "contexts"));
        String prompt = template.render(conversation, toolList, contextList, !noGenerationPrompt, Map.of());
        // Raw UTF-8, whatever the console encoding: the prompt is what the tokenizer will see.
        try {
            System.out.write(prompt.getBytes(StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        System.out.flush();
        return 0;
    }

    private static JsonNode json(Path file, String what) {
        String text;
        try {
            text = Files.readString(file, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            throw new InvalidInputException(what + " file " + file + " does not exist");
        } catch (IOException e) {
            throw new InvalidInputException("cannot read " + what + " file " + file + ": " + e.getMessage());
        }
        return ChatJson.parse(text, what + " file " + file);
    }
}
