package dev.nemotron4j.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** inspect, logits, generate and chat as a user runs them. */
class ModelCommandsTest {
    private static final Path SHARED = Path.of(System.getProperty("nemotron4j.shared"));
    private static final Path TINY = SHARED.resolve("golden/tiny-nemotron");
    private static final String GGUF = TINY.resolve("gguf/tiny-nemotron-f32.gguf").toString();
    private static final String GREETING = SHARED.resolve("scripted/greeting.gguf").toString();

    @TempDir
    Path dir;

    @Test
    void inspectJsonDescribesTheModel() throws IOException {
        CliRun run = CliRun.of("inspect", "--model", GGUF, "--json");
        assertEquals(0, run.code(), run.err());
        JsonNode r = new ObjectMapper().readTree(run.out());
        assertEquals("nemotron", r.get("architecture").asText());
        assertEquals("64", r.get("config").get("dim").asText());
        assertEquals(24, r.get("tensors").size());
        assertEquals("nemotron", r.get("metadata").get("general.architecture").asText());
        assertEquals(512, r.get("metadata").get("tokenizer.ggml.tokens").get("length").asInt());
        assertTrue(r.get("parameters").asLong() > 100_000);
    }

    @Test
    void inspectReadsHfDirectoriesToo() {
        CliRun run = CliRun.of("inspect", "--model", TINY.resolve("hf-pt").toString());
        assertEquals(0, run.code(), run.err());
        assertTrue(run.out().contains("model.layers.1.mlp.down_proj.weight"));
        assertTrue(run.out().contains("BF16"));
    }

    @Test
    void logitsOfEveryPositionOnePassAndIncremental() throws IOException {
        String tokens = Files.readString(TINY.resolve("reference/tokens-seqA.txt")).strip().replace(' ', ',');
        float[] expected = floats(TINY.resolve("reference/numpy-seqA.f32"));
        for (String mode : new String[] {"one-pass", "--incremental"}) {
            Path file = dir.resolve(mode + ".f32");
            String[] args = mode.equals("one-pass")
                    ? new String[] {"logits", "--model", GGUF, "--tokens", tokens, "--out", file.toString()}
                    : new String[] {"logits", "--model", GGUF, "--tokens", tokens, "--out", file.toString(), mode};
            CliRun run = CliRun.of(args);
            assertEquals(0, run.code(), run.err());
            float[] got = floats(file);
            assertEquals(expected.length, got.length);
            for (int i = 0; i < got.length; i++) {
                assertEquals(expected[i], got[i], 1e-4, mode + " logit " + i);
            }
        }
    }

    /** Greedy generation's JSON from the reference prompt, after checking its tokens against the reference's. */
    private static JsonNode greedyJson(String... options) throws IOException {
        List<String> args = new ArrayList<>(List.of("generate", "--model", GGUF, "--prompt-tokens",
                "1,5,9,100,42,7", "--max-tokens", "16", "--temperature", "0", "--json"));
        args.addAll(List.of(options));
        CliRun run = CliRun.of(args.toArray(String[]::new));
        assertEquals(0, run.code(), run.err());
        JsonNode r = new ObjectMapper().readTree(run.out());
        String expected = Files.readString(TINY.resolve("reference/numpy-greedy.txt")).strip();
        StringBuilder got = new StringBuilder();
        r.get("tokens").forEach(t -> got.append(got.isEmpty() ? "" : " ").append(t.asInt()));
        assertEquals(expected, got.toString());
        return r;
    }

    @Test
    void benchAtADepthReportsBothSpeeds() throws IOException {
        CliRun run = CliRun.of("bench", "--model", GGUF, "--pp", "8", "--tg", "4", "--depth", "20", "--reps", "1",
                "--threads", "2", "--no-weight-cache", "--json");
        assertEquals(0, run.code(), run.err());
        JsonNode r = new ObjectMapper().readTree(run.out());
        assertEquals(20, r.get("depth").asInt());
        assertTrue(r.get("pp_tok_s").asDouble() > 0, run.out());
        assertTrue(r.get("tg_tok_s").asDouble() > 0, run.out());
    }

    @Test
    void benchRejectsADepthBeyondTheContext() {
        CliRun negative = CliRun.of("bench", "--model", GGUF, "--depth", "-1");
        assertEquals(1, negative.code());
        assertTrue(negative.err().contains("--depth must be non-negative"), negative.err());
        CliRun deep = CliRun.of("bench", "--model", GGUF, "--depth", "100000", "--no-weight-cache");
        assertEquals(1, deep.code());
        assertTrue(deep.err().contains("must fit the context length"), deep.err());
    }

    @Test
    void aHalfFloatKvCacheGivesTheGreedyTokensOfTheReference() throws IOException {
        greedyJson("--kv-cache", "f16");
        CliRun bad = CliRun.of("generate", "--model", GGUF, "--prompt-tokens", "1,5", "--kv-cache", "q8_0");
        assertEquals(1, bad.code());
        assertTrue(bad.err().contains("unknown KV cache type 'q8_0' (expected f32 or f16)"), bad.err());
    }

    @Test
    void generateJsonWithPromptTokens() throws IOException {
        JsonNode r = greedyJson();
        assertEquals("length", r.get("finish_reason").asText());
        assertEquals(6, r.get("prompt_tokens").asInt());
        assertEquals(16, r.get("generated_tokens").asInt());
        assertTrue(r.has("prompt_ms") && r.has("generate_ms"));
    }

    @Test
    void generateStreamsChatText() {
        CliRun run = CliRun.of("generate", "--model", GREETING, "--prompt", "hello", "--seed", "1");
        assertEquals(0, run.code(), run.err());
        assertEquals("Greetings, stranger. The forge is hot today — mind the sparks! 🔥\n", run.out());
    }

    /** The weight cache flags: a model with nothing packed on load leaves no cache file and says nothing of it. */
    @Test
    void weightCacheFlags() throws IOException {
        Path cache = dir.resolve("weights");
        CliRun withCache = CliRun.of("generate", "--model", GREETING, "--prompt", "hello", "--seed", "1",
                "--weight-cache", cache.toString());
        CliRun without = CliRun.of("generate", "--model", GREETING, "--prompt", "hello", "--seed", "1",
                "--no-weight-cache");
        assertEquals(0, withCache.code(), withCache.err());
        assertEquals(0, without.code(), without.err());
        assertEquals(without.out(), withCache.out());
        assertFalse(withCache.err().contains("weight"), withCache.err());
        if (Files.exists(cache)) {
            try (var files = Files.list(cache)) {
                assertEquals(List.of(), files.toList(), "nothing to cache");
            }
        }
    }

    @Test
    void badOptionsGiveOneLineErrors() {
        String[][] cases = {
                {"generate", "--model", GREETING, "--prompt", "x", "--max-tokens", "0"},
                {"generate", "--model", GREETING, "--prompt", "x", "--temperature", "-1"},
                {"generate", "--model", GREETING, "--prompt", "x", "--top-p", "0"},
                {"generate", "--model", GREETING, "--prompt", "x", "--top-p", "1.01"},
                {"generate", "--model", dir.resolve("missing.gguf").toString(), "--prompt", "x"},
                {"generate", "--model", GREETING, "--prompt", "word ".repeat(300), "--ctx", "64"},
                {"logits", "--model", GGUF, "--tokens", "1,99999", "--out", dir.resolve("x").toString()},
        };
        for (String[] args : cases) {
            CliRun run = CliRun.of(args);
            assertEquals(1, run.code(), String.join(" ", args));
            String message = run.err().strip();
            assertTrue(message.startsWith("error: "), message);
            assertFalse(message.contains("\n"), "one line: " + message);
            assertFalse(message.contains("Exception"), message);
        }
        assertFalse(Files.exists(dir.resolve("x")), "no output file for a rejected request");
    }

    /** The REPL runs in a child JVM, reading its stdin like a user's terminal (a dumb one, as when piped). */
    @Test
    void chatReplAnswersSavesAndLoads() throws Exception {
        Path saved = dir.resolve("conversation.json");
        String input = "hello\n/save " + saved + "\n/reset\n/load " + saved + "\n/system Be terse.\nagain\\\nplease\n"
                + "/bogus\n/exit\n";
        Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
                "-Duser.home=" + dir, "-cp", System.getProperty("java.class.path"), Main.class.getName(),
                "chat", "--model", GREETING, "--temperature", "0")
                .redirectErrorStream(true).start();
        try (var stdin = p.getOutputStream()) {
            stdin.write(input.getBytes(StandardCharsets.UTF_8));
        }
        String screen = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.waitFor(), screen);
        assertEquals(2, screen.split("Greetings, stranger", -1).length - 1, screen);
        assertTrue(screen.contains("tok/s"), screen);
        assertTrue(screen.contains("(loaded 2 messages"), screen);
        assertTrue(screen.contains("unknown command /bogus"), screen);
        String conversation = Files.readString(saved);
        assertTrue(conversation.contains("\"content\" : \"hello\""), conversation);
        assertTrue(conversation.contains("\"role\" : \"assistant\""), conversation);
    }

    private static float[] floats(Path file) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(file)).order(ByteOrder.LITTLE_ENDIAN);
        float[] f = new float[b.remaining() / 4];
        b.asFloatBuffer().get(f);
        return f;
    }
}
