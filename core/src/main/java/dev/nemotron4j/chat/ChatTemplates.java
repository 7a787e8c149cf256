package dev.nemotron4j.chat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.nemotron4j.InvalidInputException;
import dev.nemotron4j.formats.ModelFormatException;
import dev.nemotron4j.formats.gguf.GGUFFile;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Optional;

/** Where chat templates come from: a model (GGUF or Hugging Face directory), a Jinja file, or the built-in one. */
public final class ChatTemplates {
    static final String GGUF_KEY = "tokenizer.chat_template";
    private static final String BUILTIN_RESOURCE = "nemotron.jinja";

    private ChatTemplates() {
    }

    /**
     * The Nemotron prompt format ({@code <extra_id_0>System … <extra_id_1>User … <extra_id_1>Assistant}, with
     * {@code <tool>} and {@code <context>} lines): Nemotron-Mini-4B-Instruct's current template, which appends the
     * assistant header only when {@code add_generation_prompt} is set. Used for models that ship no template
     * (Mistral-NeMo-Minitron-8B documents the same format; many GGUF conversions drop the template).
     */
    public static ChatTemplate builtinNemotron() {
        try (InputStream in = ChatTemplates.class.getResourceAsStream(BUILTIN_RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException("resource " + BUILTIN_RESOURCE + " is missing from the build");
            }
            return ChatTemplate.compile(new String(in.readAllBytes(), StandardCharsets.UTF_8), "<s>", "</s>");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A Jinja template file, used verbatim. */
    public static ChatTemplate fromFile(Path file) {
        return ChatTemplate.compile(read(file));
    }

    /**
     * The model's own template, else the built-in Nemotron one. {@code model} is a GGUF file (key
     * {@code tokenizer.chat_template}) or a Hugging Face model directory ({@code chat_template.jinja}, else
     * {@code tokenizer_config.json}'s {@code chat_template}).
     */
    public static ChatTemplate forModel(Path model) {
        if (Files.isDirectory(model)) {
            return fromHfDirectory(model).orElseGet(ChatTemplates::builtinNemotron);
        }
        if (!Files.isRegularFile(model)) {
            throw new InvalidInputException("model " + model + " does not exist");
        }
        try (GGUFFile gguf = GGUFFile.open(model)) {
            return fromGguf(gguf).orElseGet(ChatTemplates::builtinNemotron);
        }
    }

    /** The template stored in a GGUF file, with BOS/EOS strings from its vocabulary. */
    public static Optional<ChatTemplate> fromGguf(GGUFFile gguf) {
        String source = gguf.getString(GGUF_KEY, null);
        if (source == null) {
            return Optional.empty();
        }
        String[] tokens = gguf.has("tokenizer.ggml.tokens") ? gguf.getStringArray("tokenizer.ggml.tokens") : null;
        return Optional.of(ChatTemplate.compile(source, token(gguf, tokens, "tokenizer.ggml.bos_token_id"),
                token(gguf, tokens, "tokenizer.ggml.eos_token_id")));
    }

    private static String token(GGUFFile gguf, String[] tokens, String key) {
        int id = gguf.getInt(key, -1);
        return tokens != null && id >= 0 && id < tokens.length ? tokens[id] : "";
    }

    /** The template of a Hugging Face model directory, if it has one. */
    public static Optional<ChatTemplate> fromHfDirectory(Path dir) {
        Path configFile = dir.resolve("tokenizer_config.json");
        JsonNode config = Files.isRegularFile(configFile)
                ? ChatJson.parse(read(configFile), configFile.toString()) : null;
        String bos = config == null ? "" : tokenText(config.get("bos_token"));
        String eos = config == null ? "" : tokenText(config.get("eos_token"));
        Path jinjaFile = dir.resolve("chat_template.jinja");
        if (Files.isRegularFile(jinjaFile)) {
            return Optional.of(ChatTemplate.compile(read(jinjaFile), bos, eos));
        }
        if (config == null || config.path("chat_template").isNull() || config.path("chat_template").isMissingNode()) {
            return Optional.empty();
        }
        return Optional.of(ChatTemplate.compile(templateSource(config.get("chat_template"), configFile), bos, eos));
    }

    /** {@code chat_template} is a string, or a list of {@code {name, template}} of which "default" is the chat one. */
    static String templateSource(JsonNode node, Path where) {
        if (node.isTextual()) {
            return node.asText();
        }
        if (node.isArray()) {
            for (JsonNode named : node) {
                if ("default".equals(named.path("name").asText()) && named.path("template").isTextual()) {
                    return named.get("template").asText();
                }
            }
            throw new ModelFormatException(where + ": chat_template lists no template named 'default'");
        }
        throw new ModelFormatException(where + ": chat_template must be a string or a list of named templates");
    }

    /** Special tokens appear as a string or as an AddedToken object {@code {"content": "<s>", ...}}. */
    private static String tokenText(JsonNode node) {
        if (node == null || node.isNull()) {
            return "";
        }
        return node.isTextual() ? node.asText() : node.path("content").asText("");
    }

    private static String read(Path file) {
        try {
            return Files.readString(file, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            throw new InvalidInputException(file + " does not exist");
        } catch (IOException e) {
            throw new InvalidInputException("cannot read " + file + ": " + e);
        }
    }
}
