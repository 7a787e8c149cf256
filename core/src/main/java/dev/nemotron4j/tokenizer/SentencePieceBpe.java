package dev.nemotron4j.tokenizer;

import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import java.util.PriorityQueue;

/**
 * SentencePiece BPE by piece score (sentencepiece {@code bpe_model.cc}, llama.cpp {@code llm_tokenizer_spm}):
 * start from single code points, repeatedly merge the adjacent pair whose concatenation is the vocabulary piece
 * with the highest score (ties: leftmost), then map every symbol to its id, falling back to {@code <0xNN>} byte
 * tokens (or unk) for symbols without a piece.
 */
final class SentencePieceBpe {
    private final Vocab vocab;
    /** Which ids a merge may produce (sentencepiece: normal, user-defined, unused pieces; llama.cpp: any). */
    private final boolean[] mergeable;
    private final boolean byteFallback;
    /** Longest piece in chars: longer concatenations cannot be pieces, so their lookup is skipped. */
    private final int maxPieceLength;

    private record Bigram(int left, int right, float score, int size) {
    }

    SentencePieceBpe(Vocab vocab, boolean[] mergeable, boolean byteFallback) {
        this.vocab = vocab;
        this.mergeable = mergeable;
        this.byteFallback = byteFallback;
        int max = 0;
        for (String p : vocab.pieces) {
            max = p == null ? max : Math.max(max, p.length());
        }
        this.maxPieceLength = max;
    }

    void encode(String text, IntList out) {
        int n = text.codePointCount(0, text.length());
        if (n == 0) {
            return;
        }
        int[] start = new int[n];
        int[] end = new int[n];
        int[] prev = new int[n];
        int[] next = new int[n];
        for (int i = 0, pos = 0; i < n; i++) {
            start[i] = pos;
            pos += Character.charCount(text.codePointAt(pos));
            end[i] = pos;
            prev[i] = i - 1;
            next[i] = i + 1 < n ? i + 1 : -1;
        }
        PriorityQueue<Bigram> agenda = new PriorityQueue<>((a, b) -> a.score != b.score
                ? Float.compare(b.score, a.score) : Integer.compare(a.left, b.left));
        // pieces merged from parts, remembered so that a result that may not be emitted can be split again
        Map<Long, Integer> revMerge = new HashMap<>();
        for (int i = 1; i < n; i++) {
            addBigram(text, i - 1, i, start, end, agenda);
        }
        while (!agenda.isEmpty()) {
            Bigram b = agenda.poll();
            int l = b.left;
            int r = b.right;
            if (start[l] < 0 || start[r] < 0 || end[r] - start[l] != b.size || next[l] != r) {
                continue; // stale: one side was merged away since this pair was queued
            }
            revMerge.put(key(start[l], end[r]), end[l]);
            end[l] = end[r];
            start[r] = -1;
            next[l] = next[r];
            if (next[r] >= 0) {
                prev[next[r]] = l;
            }
            if (prev[l] >= 0) {
                addBigram(text, prev[l], l, start, end, agenda);
            }
            if (next[l] >= 0) {
                addBigram(text, l, next[l], start, end, agenda);
            }
        }
        for (int i = 0; i >= 0; i = next[i]) {
            resegment(text, start[i], end[i], revMerge, out);
        }
    }

    private void addBigram(String text, int l, int r, int[] start, int[] end, PriorityQueue<Bigram> agenda) {
        if (end[r] - start[l] > maxPieceLength) {
            return;
        }
        int id = vocab.id(text.substring(start[l], end[r]));
        if (id >= 0 && (mergeable == null || mergeable[id])) {
            agenda.add(new Bigram(l, r, vocab.scores[id], end[r] - start[l]));
        }
    }

    private void resegment(String text, int from, int to, Map<Long, Integer> revMerge, IntList out) {
        String piece = text.substring(from, to);
        int id = vocab.id(piece);
        if (id >= 0 && vocab.types[id] != TokenType.UNUSED) {
            out.add(id);
            return;
        }
        Integer mid = revMerge.get(key(from, to));
        if (mid != null) {
            resegment(text, from, mid, revMerge, out);
            resegment(text, mid, to, revMerge, out);
            return;
        }
        if (byteFallback) {
            byte[] bytes = piece.getBytes(StandardCharsets.UTF_8);
            boolean all = true;
            for (byte b : bytes) {
                all &= vocab.byteIds[b & 0xFF] >= 0;
            }
            if (all) {
                for (byte b : bytes) {
                    out.add(vocab.byteIds[b & 0xFF]);
                }
                return;
            }
        }
        if (vocab.unk < 0) {
            throw new TokenizerException("no token for '" + piece + "' and the vocabulary has no unknown token");
        }
        out.add(vocab.unk);
    }

    private static long key(int from, int to) {
        return ((long) from << 32) | to;
    }
}
