package dev.nemotron4j.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

class TokenizeCommandTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Path TEKKEN = Path.of(System.getProperty("nemotron4j.shared", "/work/shared"), "tokenizer/tekken-tiny");

    private record Result(int code, String out, String err) {
    }

    private static Result run(String... args) {
        PrintStream oldOut = System.out;
        PrintStream oldErr = System.err;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        try {
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
            int code = Main.run(args);
            return new Result(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(oldOut);
            System.setErr(oldErr);
        }
    }

    @Test
    void tokenizeTextWithAndWithoutBos() throws Exception {
        assumeTrue(Files.isDirectory(TEKKEN));
        Result r = run("tokenize", "--model", TEKKEN.toString(), "--text", " ");
        assertEquals(0, r.code, r.err);
        JsonNode n = JSON.readTree(r.out);
        assertEquals("[1,1032]", n.get("ids").toString());
        assertEquals("[\"<s>\",\"Ġ\"]", n.get("pieces").toString());
        Result noBos = run("tokenize", "--model", TEKKEN.toString(), "--text", "[INST]", "--no-bos", "--special");
        assertEquals("[3]", JSON.readTree(noBos.out).get("ids").toString());
    }

    @Test
    void tokenizeJsonlAndDetokenize(@TempDir Path dir) throws Exception {
        assumeTrue(Files.isDirectory(TEKKEN));
        Path in = dir.resolve("in.jsonl");
        Files.writeString(in, "{\"text\": \" \"}\n{\"text\": \"\"}\n");
        Result r = run("tokenize", "--model", TEKKEN.toString(), "--jsonl", in.toString(), "--no-bos");
        assertEquals(0, r.code, r.err);
        String[] lines = r.out.strip().split("\n");
        assertEquals(2, lines.length);
        assertEquals("[1032]", JSON.readTree(lines[0]).get("ids").toString());
        assertEquals("[]", JSON.readTree(lines[1]).get("ids").toString());
        Result d = run("detokenize", "--model", TEKKEN.toString(), "--ids", "1,1032,1033");
        assertEquals(0, d.code, d.err);
        assertEquals(" !", d.out.replace(System.lineSeparator(), ""));
    }

    @Test
    void errorsAreOneLine(@TempDir Path dir) throws Exception {
        assumeTrue(Files.isDirectory(TEKKEN));
        Path bad = dir.resolve("bad.txt");
        Files.write(bad, new byte[] {'a', (byte) 0xFF});
        Result r = run("tokenize", "--model", TEKKEN.toString(), "--file", bad.toString());
        assertEquals(1, r.code);
        assertTrue(r.err.startsWith("error: ") && r.err.contains("UTF-8"), r.err);
        Result d = run("detokenize", "--model", TEKKEN.toString(), "--ids", "99999");
        assertEquals(1, d.code);
        assertTrue(d.err.contains("99999"), d.err);
    }
}
