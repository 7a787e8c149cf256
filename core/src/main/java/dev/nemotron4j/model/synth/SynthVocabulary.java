package dev.nemotron4j.model.synth;

import java.util.ArrayList;
import java.util.List;

/**
 * A SentencePiece ({@code tokenizer.ggml.model = llama}) vocabulary laid out like the golden tiny models': the special
 * tokens at the real model's ids, the 256 byte tokens {@code <0x00>}…{@code <0xFF>}, word-start and plain ASCII pieces
 * ({@code ▁a}…, {@code a}…), then filler pieces {@code ▁w0, ▁w1, …} up to the vocabulary size. Pieces score −1, −2, …
 * in order, so earlier pieces win SentencePiece merges.
 */
record SynthVocabulary(String[] tokens, float[] scores, int[] types) {
    /** llama.cpp token types. */
    static final int NORMAL = 1;
    static final int UNKNOWN = 2;
    static final int CONTROL = 3;
    static final int BYTE = 6;

    private static final String ALNUM = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

    static SynthVocabulary of(SynthShape shape) {
        int n = shape.vocabSize();
        String[] tokens = new String[n];
        float[] scores = new float[n];
        int[] types = new int[n];
        List<Integer> specials = new ArrayList<>(List.of(shape.unkId(), shape.bosId(), shape.eosId()));
        if (shape.padId() >= 0) {
            specials.add(shape.padId());
        }
        int firstFree = specials.stream().mapToInt(Integer::intValue).max().orElseThrow() + 1;
        if (firstFree != specials.size()) {
            throw new IllegalArgumentException("special token ids " + specials + " must be 0…" + (specials.size() - 1));
        }
        set(tokens, types, shape.unkId(), "<unk>", UNKNOWN);
        set(tokens, types, shape.bosId(), "<s>", CONTROL);
        set(tokens, types, shape.eosId(), "</s>", CONTROL);
        if (shape.padId() >= 0) {
            set(tokens, types, shape.padId(), "<pad>", CONTROL);
        }
        int id = firstFree;
        for (int b = 0; b < 256; b++, id++) {
            set(tokens, types, id, String.format("<0x%02X>", b), BYTE);
        }
        List<String> pieces = new ArrayList<>();
        for (char c : ALNUM.toCharArray()) {
            pieces.add("\u2581" + c);
        }
        for (char c : ALNUM.toCharArray()) {
            pieces.add(String.valueOf(c));
        }
        for (int k = 0; id < n; k++, id++) {
            String piece = k < pieces.size() ? pieces.get(k) : "\u2581w" + (k - pieces.size());
            set(tokens, types, id, piece, NORMAL);
            scores[id] = -(k + 1);
        }
        return new SynthVocabulary(tokens, scores, types);
    }

    private static void set(String[] tokens, int[] types, int id, String token, int type) {
        tokens[id] = token;
        types[id] = type;
    }
}
