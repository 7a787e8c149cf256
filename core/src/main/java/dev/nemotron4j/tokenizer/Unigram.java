package dev.nemotron4j.tokenizer;

import java.util.Arrays;

/**
 * Unigram language-model segmentation (sentencepiece {@code unigram_model.cc} {@code EncodeOptimized}, HF tokenizers
 * {@code Unigram::encode_optimized}): Viterbi over all vocabulary pieces found in the text, maximising the sum of
 * piece scores. A char that starts no single-char piece becomes an unknown node scored {@code min score - 10}.
 * Ties keep the earliest-found path: candidates are visited by start position, then by length.
 */
final class Unigram {
    private static final double UNK_PENALTY = 10.0;

    private final Vocab vocab;
    private final PieceIndex lattice;
    private final double[] scores;
    private final int maxPieceLength;
    private final double unkScore;
    private final boolean byteFallback;
    /** HF: adjacent unknown chars become one unknown piece (looked up as a whole, then bytes or one unk). */
    private final boolean fuseUnk;
    /** sentencepiece keeps path scores in float: round every sum as C++ float arithmetic does. */
    private final boolean floatSums;

    private Unigram(Vocab vocab, boolean[] inLattice, double[] scores, double minScore, boolean byteFallback,
                    boolean fuseUnk, boolean floatSums) {
        this.vocab = vocab;
        this.lattice = new PieceIndex(vocab.pieces, inLattice);
        this.scores = scores;
        this.byteFallback = byteFallback;
        this.fuseUnk = fuseUnk;
        this.floatSums = floatSums;
        this.unkScore = floatSums ? (float) minScore - (float) UNK_PENALTY : minScore - UNK_PENALTY;
        int max = 0;
        for (int i = 0; i < vocab.pieces.length; i++) {
            if (vocab.pieces[i] != null && (inLattice == null || inLattice[i])) {
                max = Math.max(max, vocab.pieces[i].length());
            }
        }
        this.maxPieceLength = max;
    }

    /**
     * sentencepiece semantics: normal and user-defined pieces form the lattice (unused ones are skipped, control and
     * byte pieces are not in it); the unknown score derives from the lowest normal-piece score.
     */
    static Unigram sentencePiece(Vocab vocab, boolean byteFallback) {
        int n = vocab.size();
        boolean[] inLattice = new boolean[n];
        double[] scores = new double[n];
        float min = Float.MAX_VALUE;
        for (int i = 0; i < n; i++) {
            TokenType t = vocab.types[i];
            inLattice[i] = t == TokenType.NORMAL || t == TokenType.USER_DEFINED;
            scores[i] = vocab.scores[i];
            if (t == TokenType.NORMAL) {
                min = Math.min(min, vocab.scores[i]);
            }
        }
        return new Unigram(vocab, inLattice, scores, min == Float.MAX_VALUE ? 0 : min, byteFallback, false, true);
    }

    /** HF semantics: every vocabulary entry is in the lattice with its (double) score; unknown chars are fused. */
    static Unigram huggingFace(Vocab vocab, double[] scores, boolean byteFallback) {
        double min = Double.POSITIVE_INFINITY;
        for (double s : scores) {
            min = Math.min(min, s);
        }
        return new Unigram(vocab, null, scores, min, byteFallback, true, false);
    }

    void encode(String text, IntList out) {
        int size = text.length();
        if (size == 0) {
            return;
        }
        // best path ending at each char offset: its score, where its last piece starts, that piece's id (-1: unknown)
        double[] best = new double[size + 1];
        int[] startsAt = new int[size + 1];
        int[] ids = new int[size + 1];
        Arrays.fill(startsAt, -1);
        for (int start = 0; start < size; ) {
            double tillHere = best[start];
            int charLen = Character.charCount(text.codePointAt(start));
            boolean hasSingle = false;
            int hash = 0;
            for (int end = start; end < Math.min(size, start + maxPieceLength); ) {
                hash = 31 * hash + text.charAt(end++);
                int id = lattice.id(text, start, end, hash);
                if (id < 0) {
                    continue;
                }
                relax(start, end, id, add(scores[id], tillHere), best, startsAt, ids);
                hasSingle |= end - start == charLen;
            }
            if (!hasSingle) {
                relax(start, start + charLen, -1, add(unkScore, tillHere), best, startsAt, ids);
            }
            start += charLen;
        }
        IntList pieces = new IntList();
        for (int end = size; end > 0; end = startsAt[end]) {
            pieces.add(end);
        }
        int[] ends = pieces.toArray();
        for (int k = ends.length - 1; k >= 0; k--) {
            int end = ends[k];
            int start = startsAt[end];
            if (!isUnknown(ids[end])) {
                out.add(ids[end]);
                continue;
            }
            while (fuseUnk && k > 0 && isUnknown(ids[ends[k - 1]])) {
                end = ends[--k];
            }
            emitUnknown(text.substring(start, end), out);
        }
    }

    /** An unknown node, or for HF also the unknown token matched literally (HF fuses both). */
    private boolean isUnknown(int id) {
        return id < 0 || fuseUnk && id == vocab.unk;
    }

    private static void relax(int start, int end, int id, double score, double[] best, int[] startsAt, int[] ids) {
        if (startsAt[end] < 0 || score > best[end]) {
            best[end] = score;
            startsAt[end] = start;
            ids[end] = id;
        }
    }

    private double add(double score, double tillHere) {
        return floatSums ? (float) score + (float) tillHere : score + tillHere;
    }

    private void emitUnknown(String piece, IntList out) {
        int id = fuseUnk ? vocab.id(piece) : -1; // HF looks the fused text up as a whole first
        if (id >= 0) {
            out.add(id);
            return;
        }
        if (byteFallback && vocab.addBytes(piece, out)) {
            return;
        }
        if (vocab.unk < 0) {
            throw new TokenizerException("no token for '" + piece + "' and the vocabulary has no unknown token");
        }
        out.add(vocab.unk);
    }
}
