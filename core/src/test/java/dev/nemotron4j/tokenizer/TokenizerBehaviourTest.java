package dev.nemotron4j.tokenizer;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

class TokenizerBehaviourTest {
    private static final Path SHARED = Path.of(System.getProperty("nemotron4j.shared", "/work/shared"));
    private static final Path SPM_MODEL = SHARED.resolve("tokenizer/spm-tiny/tokenizer.model");
    private static final Path TEKKEN = SHARED.resolve("tokenizer/tekken-tiny");

    @Test
    void streamingHoldsBackSplitCharacters() {
        assumeTrue(Files.exists(SPM_MODEL));
        Tokenizer tok = TokenizerLoader.load(SPM_MODEL);
        int[] ids = tok.encode("a\uD83D\uDE00b", false, false); // 😀 is not a piece: four byte tokens
        StreamingDecoder d = tok.streamingDecoder();
        StringBuilder sb = new StringBuilder();
        int emptyPushes = 0;
        for (int id : ids) {
            String s = d.push(id);
            emptyPushes += s.isEmpty() ? 1 : 0;
            sb.append(s);
        }
        assertEquals("a\uD83D\uDE00b", sb + d.flush());
        assertTrue(emptyPushes >= 3, "the first three bytes of the emoji must be held back");
        StreamingDecoder truncated = tok.streamingDecoder();
        assertEquals("", truncated.push(tok.tokenId("<0xF0>").orElseThrow()));
        assertEquals("\uFFFD", truncated.flush());
    }

    @Test
    void controlTokensAreInvisibleUnlessRendered() {
        assumeTrue(Files.exists(SPM_MODEL));
        Tokenizer tok = TokenizerLoader.load(SPM_MODEL);
        int[] ids = tok.encode("Hello", true, false);
        assertEquals(tok.bos(), ids[0]);
        assertTrue(tok.isControl(tok.bos()));
        assertEquals("Hello", tok.decode(ids));
        assertEquals("<s>Hello", tok.decode(ids, true).replace(" ", ""));
        assertEquals(4, tok.tokenId("<extra_id_0>").orElseThrow());
        assertEquals(4, tok.encode("<extra_id_0>", false, false)[1], "user-defined symbols are always one piece");
        assertEquals(tok.bos(), tok.encode("<s>", false, true)[1], "control pieces match with parseSpecial");
    }

    @Test
    void unknownIdOnDecodeNamesIdAndVocabSize() {
        assumeTrue(Files.isDirectory(TEKKEN));
        Tokenizer tok = TokenizerLoader.load(TEKKEN);
        TokenizerException e = assertThrows(TokenizerException.class, () -> tok.decode(new int[] {1, 5000}));
        assertTrue(e.getMessage().contains("5000") && e.getMessage().contains("5000"), e.getMessage());
        assertThrows(TokenizerException.class, () -> tok.decode(new int[] {-1}));
    }

    @Test
    void malformedFilesAreRejected(@TempDir Path dir) throws IOException {
        Path model = dir.resolve("tokenizer.model");
        Files.write(model, new byte[] {0x0A, 0x7F, 0x01});
        assertThrows(TokenizerException.class, () -> TokenizerLoader.load(model));
        Path json = dir.resolve("tokenizer.json");
        Files.writeString(json, "{\"model\": {\"type\": \"BPE\", \"vocab\": ");
        assertThrows(TokenizerException.class, () -> TokenizerLoader.load(json));
        Files.writeString(json, "{\"model\": {\"type\": \"WordPiece\", \"vocab\": {}}}");
        assertThrows(TokenizerException.class, () -> TokenizerLoader.load(json));
        assertThrows(TokenizerException.class, () -> TokenizerLoader.load(dir.resolve("missing")));
        assertThrows(TokenizerException.class, () -> Utf8.decodeStrict(new byte[] {(byte) 0xC3}, "input"));
    }

    @Test
    void pathologicalInputsRunInLinearishTime() {
        Path[] vocabs = {
                SHARED.resolve("tokenizer/llama.cpp-vocab/ggml-vocab-llama-spm.gguf"),
                SHARED.resolve("tokenizer/llama.cpp-vocab/ggml-vocab-gpt-2.gguf"),
                SPM_MODEL,
                SHARED.resolve("tokenizer/spm-tiny/hf/tokenizer.json"),
                TEKKEN,
        };
        String[] inputs = {"a".repeat(200_000), "7".repeat(200_000), " ".repeat(200_000), "Ab".repeat(100_000),
                "\u00e9".repeat(100_000) + "\n".repeat(100_000)};
        assertTimeoutPreemptively(Duration.ofSeconds(20), () -> {
            for (Path v : vocabs) {
                assumeTrue(Files.exists(v));
                Tokenizer tok = TokenizerLoader.load(v);
                for (String in : inputs) {
                    int[] ids = tok.encode(in, false, false);
                    assertTrue(ids.length > 0);
                    assertEquals(in, tok.decode(ids), v + " round trip");
                }
            }
        });
    }
}
