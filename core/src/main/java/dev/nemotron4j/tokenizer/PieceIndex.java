package dev.nemotron4j.tokenizer;

/**
 * Piece-string to id lookup for a char range of a text, without creating a substring: an open-addressing table
 * keyed by {@link String#hashCode()}, whose polynomial the caller can extend one char at a time.
 */
final class PieceIndex {
    private final String[] pieces;
    private final int[] table;
    private final int mask;

    /** Indexes the pieces with {@code include[id]} (all non-null ones when null); the first id wins for duplicates. */
    PieceIndex(String[] pieces, boolean[] include) {
        this.pieces = pieces;
        int capacity = Integer.highestOneBit(Math.max(pieces.length, 1) * 2 + 1) << 1;
        this.table = new int[capacity];
        this.mask = capacity - 1;
        java.util.Arrays.fill(table, -1);
        for (int id = 0; id < pieces.length; id++) {
            String p = pieces[id];
            if (p == null || include != null && !include[id]) {
                continue;
            }
            int slot = mix(p.hashCode()) & mask;
            while (table[slot] >= 0 && !pieces[table[slot]].equals(p)) {
                slot = (slot + 1) & mask;
            }
            if (table[slot] < 0) {
                table[slot] = id;
            }
        }
    }

    /** Id of {@code text[from, to)}, or -1. */
    int id(CharSequence text, int from, int to) {
        int h = 0;
        for (int i = from; i < to; i++) {
            h = 31 * h + text.charAt(i);
        }
        return id(text, from, to, h);
    }

    /** Id of {@code text[from, to)} whose {@link String#hashCode()} is {@code hash}, or -1. */
    int id(CharSequence text, int from, int to, int hash) {
        int len = to - from;
        for (int slot = mix(hash) & mask; ; slot = (slot + 1) & mask) {
            int id = table[slot];
            if (id < 0) {
                return -1;
            }
            String p = pieces[id];
            if (p.length() == len && p.hashCode() == hash && regionEquals(p, text, from, len)) {
                return id;
            }
        }
    }

    private static boolean regionEquals(String p, CharSequence text, int from, int len) {
        for (int i = 0; i < len; i++) {
            if (p.charAt(i) != text.charAt(from + i)) {
                return false;
            }
        }
        return true;
    }

    /** Spreads String's weak low bits over the table. */
    private static int mix(int h) {
        h *= 0x9E3779B9;
        return h ^ (h >>> 16);
    }
}
