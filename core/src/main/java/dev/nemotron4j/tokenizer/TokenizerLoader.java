package dev.nemotron4j.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.nemotron4j.formats.gguf.GGUFFile;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Loads a tokenizer from a GGUF file, a {@code tokenizer.model}, a {@code tokenizer.json} or a HF model directory. */
public final class TokenizerLoader {
    private static final ObjectMapper JSON = new ObjectMapper();

    private TokenizerLoader() {
    }

    /** The vocabulary stored in an open GGUF model file. */
    public static Tokenizer fromGguf(GGUFFile gguf) {
        return GgufTokenizerLoader.load(gguf);
    }

    public static Tokenizer load(Path path) {
        if (Files.isDirectory(path)) {
            return loadDirectory(path);
        }
        if (!Files.isRegularFile(path)) {
            throw new TokenizerException(path + ": no such file or directory");
        }
        byte[] head = readHead(path);
        if (head.length >= 4 && head[0] == 'G' && head[1] == 'G' && head[2] == 'U' && head[3] == 'F') {
            try (GGUFFile gguf = GGUFFile.open(path)) {
                return GgufTokenizerLoader.load(gguf);
            }
        }
        if (path.getFileName().toString().endsWith(".json")) {
            return HfTokenizerJsonLoader.load(readJson(path), TokenizerConfig.NONE);
        }
        return SentencePieceModelLoader.load(readBytes(path), TokenizerConfig.NONE);
    }

    private static Tokenizer loadDirectory(Path dir) {
        TokenizerConfig config = readConfig(dir);
        Path json = dir.resolve("tokenizer.json");
        if (Files.isRegularFile(json)) {
            return HfTokenizerJsonLoader.load(readJson(json), config);
        }
        Path model = dir.resolve("tokenizer.model");
        if (Files.isRegularFile(model)) {
            return SentencePieceModelLoader.load(readBytes(model), config);
        }
        throw new TokenizerException(dir + ": neither tokenizer.json nor tokenizer.model found");
    }

    /** tokenizer_config.json (add_bos/eos_token, bos/eos_token), with config.json's bos/eos_token_id as fallback. */
    private static TokenizerConfig readConfig(Path dir) {
        Boolean addBos = null;
        Boolean addEos = null;
        String bosToken = null;
        String eosToken = null;
        int bosId = -1;
        int eosId = -1;
        Path tc = dir.resolve("tokenizer_config.json");
        if (Files.isRegularFile(tc)) {
            JsonNode n = readJson(tc);
            addBos = n.path("add_bos_token").isBoolean() ? n.path("add_bos_token").asBoolean() : null;
            addEos = n.path("add_eos_token").isBoolean() ? n.path("add_eos_token").asBoolean() : null;
            bosToken = tokenString(n.path("bos_token"));
            eosToken = tokenString(n.path("eos_token"));
        }
        Path c = dir.resolve("config.json");
        if (Files.isRegularFile(c)) {
            JsonNode n = readJson(c);
            bosId = n.path("bos_token_id").isInt() ? n.path("bos_token_id").asInt() : -1;
            eosId = n.path("eos_token_id").isInt() ? n.path("eos_token_id").asInt() : -1;
        }
        return new TokenizerConfig(addBos, addEos, bosToken, eosToken, bosId, eosId);
    }

    /** A token given as a plain string or as an AddedToken object {@code {"content": ...}}. */
    private static String tokenString(JsonNode n) {
        if (n.isTextual()) {
            return n.asText();
        }
        return n.path("content").isTextual() ? n.path("content").asText() : null;
    }

    private static byte[] readHead(Path path) {
        try (var in = Files.newInputStream(path)) {
            return in.readNBytes(4);
        } catch (IOException e) {
            throw new TokenizerException(path + ": cannot read: " + e.getMessage(), e);
        }
    }

    private static byte[] readBytes(Path path) {
        try {
            return Files.readAllBytes(path);
        } catch (IOException e) {
            throw new TokenizerException(path + ": cannot read: " + e.getMessage(), e);
        }
    }

    private static JsonNode readJson(Path path) {
        try {
            return JSON.readTree(path.toFile());
        } catch (IOException e) {
            throw new TokenizerException(path + ": malformed JSON: " + e.getMessage(), e);
        }
    }
}
