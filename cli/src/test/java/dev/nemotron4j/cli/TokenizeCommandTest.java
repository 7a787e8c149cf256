package dev.nemotron4j.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

class TokenizeCommandTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Path TEKKEN = Path.of(System.getProperty("nemotron4j.shared", "/work/shared"), "tokenizer/tekken-tiny");

    @Test
    void tokenizeTextWithAndWithoutBos() throws Exception {
        assumeTrue(Files.isDirectory(TEKKEN));
        CliRun r = CliRun.of("tokenize", "--model", TEKKEN.toString(), "--text", " ");
        assertEquals(0, r.code(), r.err());
        JsonNode n = JSON.readTree(r.out());
        assertEquals("[1,1032]", n.get("ids").toString());
        assertEquals("[\"<s>\",\"Ġ\"]", n.get("pieces").toString());
        CliRun noBos = CliRun.of("tokenize", "--model", TEKKEN.toString(), "--text", "[INST]", "--no-bos", "--special");
        assertEquals("[3]", JSON.readTree(noBos.out()).get("ids").toString());
    }

    @Test
    void tokenizeJsonlAndDetokenize(@TempDir Path dir) throws Exception {
        assumeTrue(Files.isDirectory(TEKKEN));
        Path in = dir.resolve("in.jsonl");
        Files.writeString(in, "{\"text\": \" \"}\n{\"text\": \"\"}\n");
        CliRun r = CliRun.of("tokenize", "--model", TEKKEN.toString(), "--jsonl", in.toString(), "--no-bos");
        assertEquals(0, r.code(), r.err());
        String[] lines = r.out().strip().split("\n");
        assertEquals(2, lines.length);
        assertEquals("[1032]", JSON.readTree(lines[0]).get("ids").toString());
        assertEquals("[]", JSON.readTree(lines[1]).get("ids").toString());
        CliRun d = CliRun.of("detokenize", "--model", TEKKEN.toString(), "--ids", "1,1032,1033");
        assertEquals(0, d.code(), d.err());
        assertEquals(" !", d.out().replace(System.lineSeparator(), ""));
    }

    @Test
    void errorsAreOneLine(@TempDir Path dir) throws Exception {
        assumeTrue(Files.isDirectory(TEKKEN));
        Path bad = dir.resolve("bad.txt");
        Files.write(bad, new byte[] {'a', (byte) 0xFF});
        CliRun r = CliRun.of("tokenize", "--model", TEKKEN.toString(), "--file", bad.toString());
        assertEquals(1, r.code());
        assertTrue(r.err().startsWith("error: ") && r.err().contains("UTF-8"), r.err());
        CliRun d = CliRun.of("detokenize", "--model", TEKKEN.toString(), "--ids", "99999");
        assertEquals(1, d.code());
        assertTrue(d.err().contains("99999"), d.err());
    }
}
