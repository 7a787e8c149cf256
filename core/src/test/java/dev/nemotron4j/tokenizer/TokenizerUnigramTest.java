package dev.nemotron4j.tokenizer;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Unigram SentencePiece models built by hand (ModelProto bytes / tokenizer.json); expected segmentations are worked
 * out from the scores: the path with the highest score sum, unknown chars scored lowest normal score - 10.
 */
class TokenizerUnigramTest {
    private static final int NORMAL = 1;
    private static final int UNKNOWN = 2;
    private static final int CONTROL = 3;
    private static final int USER_DEFINED = 4;
    private static final int UNUSED = 5;
    private static final int BYTE = 6;

    /** {piece, score, type}; ids are positions. */
    private static final Object[][] PIECES = {
            {"<unk>", 0f, UNKNOWN}, {"<s>", 0f, CONTROL}, {"</s>", 0f, CONTROL},
            {"\u2581", -2f, NORMAL},     // 3
            {"a", -1f, NORMAL},          // 4
            {"b", -1f, NORMAL},          // 5
            {"ab", -1.5f, NORMAL},       // 6: beats a + b (-2)
            {"\u2581ab", -3f, NORMAL},   // 7: beats ▁ + ab (-3.5) and ▁a + b (-3.5)
            {"c", -2f, NORMAL},          // 8
            {"bc", -4f, NORMAL},         // 9: a + bc (-5) loses to ab + c (-3.5)
            {"\u2581a", -2.5f, NORMAL},  // 10
            {"x", -1f, NORMAL},          // 11
            {"y", -1f, NORMAL},          // 12
            {"xy", -2f, NORMAL},         // 13: ties with x + y; the longer last piece was found first and stays
            {"zz", 5f, UNUSED},          // 14: never used, whatever its score
            {"z", -3f, NORMAL},          // 15
            {"<u>", 0f, USER_DEFINED},   // 16
            {"<0xC3>", 0f, BYTE},        // 17
            {"<0xA9>", 0f, BYTE},        // 18
    };

    @Test
    void viterbiPicksTheBestScoringPath(@TempDir Path dir) throws IOException {
        Tokenizer tok = TokenizerLoader.load(writeModel(dir, true));
        assertArrayEquals(new int[] {7, 7, 8}, tok.encode("ab abc", false, false));
        assertArrayEquals(new int[] {10}, tok.encode("a", false, false));
        assertArrayEquals(new int[] {7, 8}, tok.encode("abc", false, false));
        assertArrayEquals(new int[] {3, 15, 6, 8}, tok.encode("zabc", false, false));
        assertArrayEquals(new int[] {3, 13}, tok.encode("xy", false, false));
        assertArrayEquals(new int[] {3, 15, 15}, tok.encode("zz", false, false));
        assertArrayEquals(new int[] {3, 16, 4}, tok.encode("<u>a", false, false));
        assertArrayEquals(new int[] {1, 7}, tok.encode("ab", true, false));
        assertEquals("ab abc", tok.decode(tok.encode("ab abc", false, false)));
    }

    @Test
    void unknownCharsFallBackToBytesOrUnk(@TempDir Path dir) throws IOException {
        Tokenizer withBytes = TokenizerLoader.load(writeModel(dir.resolve("bytes"), true));
        // é (C3 A9) has no piece: byte pieces; € (E2 82 AC) lacks byte pieces: unk
        assertArrayEquals(new int[] {3, 17, 18, 17, 18, 4}, withBytes.encode("ééa", false, false));
        assertArrayEquals(new int[] {3, 0, 4}, withBytes.encode("€a", false, false));
        assertEquals("ééa", withBytes.decode(withBytes.encode("ééa", false, false)));
        Tokenizer noBytes = TokenizerLoader.load(writeModel(dir.resolve("plain"), false));
        // sentencepiece emits one unk per unknown char (no fusing)
        assertArrayEquals(new int[] {3, 0, 0, 4}, noBytes.encode("ééa", false, false));
    }

    @Test
    void huggingFaceUnigramFusesUnknownChars(@TempDir Path dir) throws IOException {
        StringBuilder vocab = new StringBuilder();
        for (Object[] p : PIECES) {
            vocab.append(vocab.isEmpty() ? "" : ",").append("[\"").append(p[0]).append("\",").append(p[1]).append(']');
        }
        Path json = dir.resolve("tokenizer.json");
        Files.writeString(json, """
                {"model": {"type": "Unigram", "unk_id": 0, "byte_fallback": false, "vocab": [%s]},
                 "pre_tokenizer": {"type": "Metaspace", "replacement": "\u2581", "prepend_scheme": "always", "split": true},
                 "decoder": {"type": "Metaspace", "replacement": "\u2581", "prepend_scheme": "always", "split": true}}
                """.formatted(vocab));
        Tokenizer tok = TokenizerLoader.load(json);
        assertArrayEquals(new int[] {7, 7, 8}, tok.encode("ab abc", false, false));
        assertArrayEquals(new int[] {3, 13}, tok.encode("xy", false, false));
        // HF fuses adjacent unknown chars into one unk
        assertArrayEquals(new int[] {3, 0, 4}, tok.encode("ééa", false, false));
        assertEquals("ab abc", tok.decode(tok.encode("ab abc", false, false)));
    }

    /** A 256k-piece vocabulary (the Nemotron size) must load fast: lookup tables are built once, without boxing per piece pair. */
    @Test
    void bigVocabularyLoadsQuickly(@TempDir Path dir) throws IOException {
        Object[][] pieces = new Object[256_000][];
        pieces[0] = new Object[] {"<unk>", 0f, UNKNOWN};
        for (int i = 1; i < 257; i++) {
            pieces[i] = new Object[] {"<0x%02X>".formatted(i - 1), 0f, BYTE};
        }
        pieces[257] = new Object[] {"\u2581", -1f, NORMAL};
        for (int i = 258; i < pieces.length; i++) {
            pieces[i] = new Object[] {"\u2581" + Integer.toString(i, 36), (float) -i, NORMAL};
        }
        Path model = writeModel(dir, pieces, 2, true);
        long t0 = System.nanoTime();
        Tokenizer tok = TokenizerLoader.load(model);
        long ms = (System.nanoTime() - t0) / 1_000_000;
        assertEquals(256_000, tok.vocabSize());
        assertEquals("h\u00e9llo wo", tok.decode(tok.encode("h\u00e9llo wo", false, false)));
        assertTrue(ms < 3000, "loading 256k pieces took " + ms + " ms");
    }

    private static Path writeModel(Path dir, boolean byteFallback) throws IOException {
        return writeModel(dir, PIECES, 1, byteFallback);
    }

    private static Path writeModel(Path dir, Object[][] pieces, int modelType, boolean byteFallback) throws IOException {
        ByteArrayOutputStream model = new ByteArrayOutputStream();
        for (Object[] p : pieces) {
            ByteArrayOutputStream piece = new ByteArrayOutputStream();
            bytesField(piece, 1, ((String) p[0]).getBytes(StandardCharsets.UTF_8));
            tag(piece, 2, 5);
            int bits = Float.floatToIntBits((Float) p[1]);
            for (int i = 0; i < 4; i++) {
                piece.write(bits >>> (8 * i));
            }
            varintField(piece, 3, (Integer) p[2]);
            bytesField(model, 1, piece.toByteArray());
        }
        ByteArrayOutputStream trainer = new ByteArrayOutputStream();
        varintField(trainer, 3, modelType); // 1 UNIGRAM, 2 BPE
        varintField(trainer, 35, byteFallback ? 1 : 0);
        bytesField(model, 2, trainer.toByteArray());
        ByteArrayOutputStream normalizer = new ByteArrayOutputStream();
        varintField(normalizer, 3, 1); // add_dummy_prefix
        varintField(normalizer, 4, 1); // remove_extra_whitespaces
        varintField(normalizer, 5, 1); // escape_whitespaces
        bytesField(model, 3, normalizer.toByteArray());
        Files.createDirectories(dir);
        Path file = dir.resolve("tokenizer.model");
        Files.write(file, model.toByteArray());
        return file;
    }

    private static void tag(ByteArrayOutputStream out, int field, int wire) {
        varint(out, (long) field << 3 | wire);
    }

    private static void varintField(ByteArrayOutputStream out, int field, long v) {
        tag(out, field, 0);
        varint(out, v);
    }

    private static void bytesField(ByteArrayOutputStream out, int field, byte[] b) {
        tag(out, field, 2);
        varint(out, b.length);
        out.writeBytes(b);
    }

    private static void varint(ByteArrayOutputStream out, long v) {
        while ((v & ~0x7FL) != 0) {
            out.write((int) (v & 0x7F) | 0x80);
            v >>>= 7;
        }
        out.write((int) v);
    }
}
