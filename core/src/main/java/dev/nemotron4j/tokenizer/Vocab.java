package dev.nemotron4j.tokenizer;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;

/** Token strings, types and scores by id, with the reverse lookup and the byte-fallback token of every byte. */
final class Vocab {
    final String[] pieces;
    final TokenType[] types;
    final float[] scores;
    final Map<String, Integer> ids;
    /** id of {@code <0xNN>} for byte NN, or -1. */
    final int[] byteIds = new int[256];
    final int unk;

    Vocab(String[] pieces, TokenType[] types, float[] scores, int unk) {
        this.pieces = pieces;
        this.types = types;
        this.scores = scores;
        this.unk = unk;
        this.ids = HashMap.newHashMap(pieces.length);
        Arrays.fill(byteIds, -1);
        for (int i = 0; i < pieces.length; i++) {
            if (pieces[i] == null) {
                continue;
            }
            // the first id wins for duplicate strings, as in llama.cpp and sentencepiece
            ids.putIfAbsent(pieces[i], i);
            int b = byteValue(pieces[i]);
            if (b >= 0 && (types[i] == TokenType.BYTE) && byteIds[b] < 0) {
                byteIds[b] = i;
            }
        }
    }

    int size() {
        return pieces.length;
    }

    int id(String piece) {
        Integer id = ids.get(piece);
        return id == null ? -1 : id;
    }

    /** Appends the byte tokens of the UTF-8 bytes of {@code text}; false (and nothing added) if one is missing. */
    boolean addBytes(String text, IntList out) {
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        for (byte b : bytes) {
            if (byteIds[b & 0xFF] < 0) {
                return false;
            }
        }
        for (byte b : bytes) {
            out.add(byteIds[b & 0xFF]);
        }
        return true;
    }

    /** NN for a piece of the form {@code <0xNN>}, else -1. */
    static int byteValue(String piece) {
        if (piece.length() != 6 || !piece.startsWith("<0x") || piece.charAt(5) != '>') {
            return -1;
        }
        int hi = Character.digit(piece.charAt(3), 16);
        int lo = Character.digit(piece.charAt(4), 16);
        return hi < 0 || lo < 0 ? -1 : hi * 16 + lo;
    }

    void checkId(int id) {
        if (id < 0 || id >= pieces.length || pieces[id] == null) {
            throw new TokenizerException("token id " + id + " is outside the vocabulary of size " + pieces.length);
        }
    }
}
