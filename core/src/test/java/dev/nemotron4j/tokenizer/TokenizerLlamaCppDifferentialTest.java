package dev.nemotron4j.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Ids produced by llama.cpp's own tokenizer (node-llama-cpp 3.21.1, add_special off, parse_special off and on) for
 * mixed-script, whitespace, emoji and special-token texts: every case that once disagreed plus a sample of hard
 * agreeing ones. Regenerate with tools/tokenizer-diff.
 */
class TokenizerLlamaCppDifferentialTest {
    private static final Path SHARED = Path.of(System.getProperty("nemotron4j.shared", "/work/shared"));

    @TestFactory
    Stream<DynamicTest> matchesLlamaCpp() throws IOException {
        Path resource = Path.of("src/test/resources/tokenizer/llamacpp-differential.jsonl");
        Map<String, List<JsonNode>> byVocab = new LinkedHashMap<>();
        for (JsonNode v : TokenizerVectorsTest.readJsonl(resource)) {
            byVocab.computeIfAbsent(v.get("vocab").asText(), k -> new ArrayList<>()).add(v);
        }
        Map<String, Path> files = new HashMap<>();
        files.put("tiny-nemotron-f32.gguf", SHARED.resolve("golden/tiny-nemotron/gguf/tiny-nemotron-f32.gguf"));
        files.put("tiny-mistral-f32.gguf", SHARED.resolve("golden/tiny-mistral/gguf/tiny-mistral-f32.gguf"));
        return byVocab.entrySet().stream().map(e -> DynamicTest.dynamicTest(e.getKey(), () -> {
            Path gguf = files.getOrDefault(e.getKey(), SHARED.resolve("tokenizer/llama.cpp-vocab").resolve(e.getKey()));
            assumeTrue(Files.exists(gguf), "vocabulary not available: " + gguf);
            Tokenizer tok = TokenizerLoader.load(gguf);
            for (JsonNode v : e.getValue()) {
                String text = v.get("text").asText();
                boolean parseSpecial = v.get("parse_special").asBoolean();
                assertArrayEquals(TokenizerVectorsTest.ints(v.get("ids")), tok.encode(text, false, parseSpecial),
                        e.getKey() + " parse_special=" + parseSpecial + ": " + text);
            }
        }));
    }
}
