package dev.nemotron4j.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** Reference vectors from llama.cpp, sentencepiece and HF tokenizers (shared data folder). */
class TokenizerVectorsTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Path SHARED = Path.of(System.getProperty("nemotron4j.shared", "/work/shared"));
    private static final Path VOCABS = SHARED.resolve("tokenizer/llama.cpp-vocab");

    @TestFactory
    Stream<DynamicTest> llamaCppVocabs() throws IOException {
        assumeTrue(Files.isDirectory(VOCABS), "shared tokenizer data not available");
        List<DynamicTest> tests = new ArrayList<>();
        try (Stream<Path> files = Files.list(VOCABS)) {
            for (Path gguf : files.filter(p -> p.toString().endsWith(".gguf")).sorted().toList()) {
                Path inp = Path.of(gguf + ".inp");
                Path out = Path.of(gguf + ".out");
                if (!Files.exists(inp)) {
                    tests.add(DynamicTest.dynamicTest(gguf.getFileName() + " loads", () -> TokenizerLoader.load(gguf)));
                    continue;
                }
                tests.add(DynamicTest.dynamicTest(gguf.getFileName().toString(), () -> {
                    Tokenizer tok = TokenizerLoader.load(gguf);
                    List<String> texts = readInp(inp);
                    List<String> lines = Files.readAllLines(out, StandardCharsets.UTF_8);
                    assertEquals(texts.size(), lines.size());
                    for (int i = 0; i < texts.size(); i++) {
                        int[] expected = parseIds(lines.get(i));
                        int[] actual = tok.encode(texts.get(i), false, false);
                        assertArrayEquals(expected, actual, gguf.getFileName() + " test " + i + ": " + texts.get(i));
                        assertStreamingMatchesDecode(tok, actual);
                    }
                }));
            }
        }
        return tests.stream();
    }

    @TestFactory
    Stream<DynamicTest> spmTinyFromModelAndJson() throws IOException {
        Path dir = SHARED.resolve("tokenizer/spm-tiny");
        assumeTrue(Files.isDirectory(dir), "shared tokenizer data not available");
        List<JsonNode> spm = readJsonl(dir.resolve("tests.jsonl"));
        List<JsonNode> hf = readJsonl(dir.resolve("hf/hf_tests.jsonl"));
        return Stream.of(
                DynamicTest.dynamicTest("tokenizer.model", () -> {
                    Tokenizer tok = TokenizerLoader.load(dir.resolve("tokenizer.model"));
                    for (JsonNode v : spm) {
                        String text = v.get("text").asText();
                        int[] ids = tok.encode(text, false, false);
                        assertArrayEquals(ints(v.get("ids")), ids, text);
                        for (int i = 0; i < ids.length; i++) {
                            assertEquals(v.get("pieces").get(i).asText(), tok.piece(ids[i]));
                        }
                        assertEquals(v.get("decoded").asText(), tok.decode(ids), text);
                        assertStreamingMatchesDecode(tok, ids);
                        int[] withBos = tok.encode(text, true, false);
                        assertEquals(2, withBos[0]);
                    }
                }),
                DynamicTest.dynamicTest("hf/tokenizer.json", () -> {
                    Tokenizer tok = TokenizerLoader.load(dir.resolve("hf/tokenizer.json"));
                    for (JsonNode v : hf) {
                        String text = v.get("text").asText();
                        int[] ids = tok.encode(text, false, true);
                        assertArrayEquals(ints(v.get("ids")), ids, text);
                        assertEquals(v.get("decoded").asText(), tok.decode(ids, true), text);
                        assertStreamingMatchesDecode(tok, ids);
                    }
                }));
    }

    @TestFactory
    Stream<DynamicTest> tekkenTiny() throws IOException {
        Path dir = SHARED.resolve("tokenizer/tekken-tiny");
        assumeTrue(Files.isDirectory(dir), "shared tokenizer data not available");
        return Stream.of(
                DynamicTest.dynamicTest("tests.jsonl + chat_tests.jsonl", () -> {
                    Tokenizer tok = TokenizerLoader.load(dir);
                    assertEquals(1, tok.bos());
                    assertEquals(2, tok.eos());
                    List<JsonNode> all = new ArrayList<>(readJsonl(dir.resolve("tests.jsonl")));
                    all.addAll(readJsonl(dir.resolve("chat_tests.jsonl")));
                    for (JsonNode v : all) {
                        String text = v.get("text").asText();
                        int[] ids = tok.encode(text, false, true);
                        assertArrayEquals(ints(v.get("ids")), ids, text);
                        assertArrayEquals(ints(v.get("ids_with_special")), tok.encode(text, true, true), text);
                        assertEquals(v.get("decoded").asText(), tok.decode(ids, true), text);
                        assertEquals(v.get("decoded_skip_special").asText(), tok.decode(ids, false), text);
                        assertStreamingMatchesDecode(tok, ids);
                    }
                }),
                DynamicTest.dynamicTest("decode_tests.jsonl", () -> {
                    Tokenizer tok = TokenizerLoader.load(dir.resolve("tokenizer.json"));
                    for (JsonNode v : readJsonl(dir.resolve("decode_tests.jsonl"))) {
                        int[] ids = ints(v.get("ids"));
                        assertEquals(v.get("decoded").asText(), tok.decode(ids, true), v.get("note").asText());
                        assertEquals(v.get("decoded_skip_special").asText(), tok.decode(ids, false), v.get("note").asText());
                        assertStreamingMatchesDecode(tok, ids);
                    }
                }));
    }

    @TestFactory
    Stream<DynamicTest> goldenSyntheticGgufVocabs() {
        return Stream.of("tiny-nemotron", "tiny-mistral").map(model -> DynamicTest.dynamicTest(model, () -> {
            Path dir = SHARED.resolve("golden").resolve(model);
            assumeTrue(Files.isDirectory(dir), "golden data not available");
            Tokenizer tok = TokenizerLoader.load(dir.resolve("gguf/" + model + "-f32.gguf"));
            JsonNode golden = JSON.readTree(dir.resolve("reference/tokenizer-golden.json").toFile());
            for (JsonNode c : golden.get("cases")) {
                String text = c.get("text").asText();
                int[] ids = tok.encode(text);
                assertArrayEquals(ints(c.get("ids_with_bos")), ids, text);
                assertStreamingMatchesDecode(tok, ids);
            }
        }));
    }

    /** Feeding ids one by one must give exactly the full decode, in plain and rendered mode. */
    static void assertStreamingMatchesDecode(Tokenizer tok, int[] ids) {
        for (boolean render : new boolean[] {false, true}) {
            StreamingDecoder d = tok.streamingDecoder(render);
            StringBuilder sb = new StringBuilder();
            for (int id : ids) {
                String part = d.push(id);
                // a pushed chunk never ends inside a surrogate pair (a code point split over tokens)
                if (!part.isEmpty()) {
                    assertEquals(false, Character.isHighSurrogate(part.charAt(part.length() - 1)));
                }
                sb.append(part);
            }
            sb.append(d.flush());
            assertEquals(tok.decode(ids, render), sb.toString(), Arrays.toString(ids));
        }
    }

    static List<String> readInp(Path inp) throws IOException {
        String all = Files.readString(inp, StandardCharsets.UTF_8);
        String sep = "\n__ggml_vocab_test__\n";
        List<String> texts = new ArrayList<>();
        int pos = 0;
        while (pos < all.length()) {
            int next = all.indexOf(sep, pos);
            if (next < 0) {
                texts.add(all.substring(pos));
                break;
            }
            texts.add(all.substring(pos, next));
            pos = next + sep.length();
        }
        return texts;
    }

    static int[] parseIds(String line) {
        String s = line.strip();
        return s.isEmpty() ? new int[0] : Arrays.stream(s.split(" ")).mapToInt(Integer::parseInt).toArray();
    }

    static List<JsonNode> readJsonl(Path p) throws IOException {
        List<JsonNode> out = new ArrayList<>();
        for (String line : Files.readAllLines(p, StandardCharsets.UTF_8)) {
            if (!line.isBlank()) {
                out.add(JSON.readTree(line));
            }
        }
        return out;
    }

    static int[] ints(JsonNode arr) {
        int[] r = new int[arr.size()];
        for (int i = 0; i < r.length; i++) {
            r[i] = arr.get(i).asInt();
        }
        return r;
    }
}
