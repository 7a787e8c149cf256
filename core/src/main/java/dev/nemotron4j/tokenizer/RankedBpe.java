package dev.nemotron4j.tokenizer;

import java.util.Arrays;
import java.util.BitSet;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * BPE with a ranked merge list (HF tokenizers {@code BPE}, llama.cpp {@code llm_tokenizer_bpe}): a word starts as
 * its code points; the adjacent pair with the lowest merge rank (ties: leftmost) is merged until none applies.
 */
final class RankedBpe {
    private static final int CACHE_LIMIT = 100_000;
    private static final int CACHED_WORD_LENGTH = 64;
    private static final String SPACE = "\u2581";

    private final Vocab vocab;
    /** (left id, right id) -> rank; the merged id is {@code mergeResult[rank]}. */
    private final Map<Long, Integer> ranks;
    private final int[] mergeResult;
    private final boolean ignoreMerges;
    private final boolean byteFallback;
    private final boolean fuseUnk;
    private final int unk;
    private final Map<String, int[]> cache = new ConcurrentHashMap<>();
    /**
     * Code points that some token has directly before a {@code ▁} (SentencePiece-derived vocabularies), or null
     * when words are never split: see {@link #encode}.
     */
    private final BitSet joinsSpace;

    /** {@code merges[k] = {left, right}} piece strings in priority order; merges with a part or result outside the vocab are dropped. */
    RankedBpe(Vocab vocab, String[][] merges, boolean ignoreMerges, boolean byteFallback, boolean fuseUnk, int unk) {
        this.vocab = vocab;
        this.ignoreMerges = ignoreMerges;
        this.byteFallback = byteFallback;
        this.fuseUnk = fuseUnk;
        this.unk = unk;
        this.ranks = HashMap.newHashMap(merges.length);
        this.mergeResult = new int[merges.length];
        for (int rank = 0; rank < merges.length; rank++) {
            int l = vocab.id(merges[rank][0]);
            int r = vocab.id(merges[rank][1]);
            int m = vocab.id(merges[rank][0] + merges[rank][1]);
            mergeResult[rank] = m;
            if (l >= 0 && r >= 0 && m >= 0) {
                ranks.putIfAbsent(pairKey(l, r), rank);
            }
        }
        // with ignore_merges a word that is a token is emitted whole, so its parts must not be encoded alone
        if (ignoreMerges || vocab.id(SPACE) < 0) {
            this.joinsSpace = null;
        } else {
            this.joinsSpace = new BitSet();
            for (String p : vocab.pieces) {
                for (int i = p == null ? -1 : p.indexOf(SPACE, 1); i > 0; i = p.indexOf(SPACE, i + 1)) {
                    joinsSpace.set(p.codePointBefore(i));
                }
            }
        }
    }

    /**
     * Encodes one pre-tokenized word. Without a pre-tokenizer (SentencePiece-style vocabularies) the word is the whole
     * text; it is cut before every {@code ▁} that follows a single-char token no token has before a {@code ▁}: a merge
     * across that position would produce such a token, so the parts merge exactly as inside the whole word.
     */
    void encode(String word, IntList out) {
        if (joinsSpace == null) {
            encodeCached(word, out);
            return;
        }
        int from = 0;
        for (int i = word.indexOf(SPACE, 1); i > 0; i = word.indexOf(SPACE, i + 1)) {
            int cp = word.codePointBefore(i);
            if (!joinsSpace.get(cp) && vocab.id(word.substring(i - Character.charCount(cp), i)) >= 0) {
                encodeCached(word.substring(from, i), out);
                from = i;
            }
        }
        if (from < word.length()) {
            encodeCached(word.substring(from), out);
        }
    }

    private void encodeCached(String word, IntList out) {
        if (word.length() <= CACHED_WORD_LENGTH) {
            int[] ids = cache.get(word);
            if (ids == null) {
                ids = merge(word);
                if (cache.size() >= CACHE_LIMIT) {
                    cache.clear();
                }
                cache.put(word, ids);
            }
            for (int id : ids) {
                out.add(id);
            }
        } else {
            for (int id : merge(word)) {
                out.add(id);
            }
        }
    }

    private int[] merge(String word) {
        if (ignoreMerges) {
            int whole = vocab.id(word);
            if (whole >= 0) {
                return new int[] {whole};
            }
        }
        IntList initial = new IntList();
        boolean prevUnk = false;
        for (int pos = 0; pos < word.length(); ) {
            int cpLen = Character.charCount(word.codePointAt(pos));
            String ch = word.substring(pos, pos + cpLen);
            pos += cpLen;
            int id = vocab.id(ch);
            if (id >= 0) {
                initial.add(id);
                prevUnk = false;
                continue;
            }
            if (byteFallback && vocab.addBytes(ch, initial)) {
                prevUnk = false;
                continue;
            }
            if (unk >= 0 && !(fuseUnk && prevUnk)) {
                initial.add(unk);
            }
            prevUnk = unk >= 0; // without an unknown token HF drops the character
        }
        int[] ids = initial.toArray();
        int n = ids.length;
        int[] prev = new int[n];
        int[] next = new int[n];
        for (int i = 0; i < n; i++) {
            prev[i] = i - 1;
            next[i] = i + 1 < n ? i + 1 : -1;
        }
        boolean[] dead = new boolean[n];
        LongHeap heap = new LongHeap(Math.max(n, 1));
        for (int i = 0; i + 1 < n; i++) {
            queue(heap, ids, i, i + 1);
        }
        while (!heap.isEmpty()) {
            long top = heap.poll();
            int rank = (int) (top >>> 32);
            int l = (int) top;
            int r = l < n && !dead[l] ? next[l] : -1;
            if (r < 0) {
                continue;
            }
            Integer current = ranks.get(pairKey(ids[l], ids[r]));
            if (current == null || current != rank) {
                continue; // stale entry
            }
            ids[l] = mergeResult[rank];
            dead[r] = true;
            next[l] = next[r];
            if (next[r] >= 0) {
                prev[next[r]] = l;
            }
            if (prev[l] >= 0) {
                queue(heap, ids, prev[l], l);
            }
            if (next[l] >= 0) {
                queue(heap, ids, l, next[l]);
            }
        }
        IntList out = new IntList();
        for (int i = 0; i >= 0 && n > 0; i = next[i]) {
            out.add(ids[i]);
        }
        return out.toArray();
    }

    private void queue(LongHeap heap, int[] ids, int l, int r) {
        Integer rank = ranks.get(pairKey(ids[l], ids[r]));
        if (rank != null) {
            heap.add(((long) rank << 32) | l);
        }
    }

    private static long pairKey(int l, int r) {
        return ((long) l << 32) | (r & 0xFFFFFFFFL);
    }

    /** Binary min-heap of longs (rank in the high half, position in the low half: lowest rank, then leftmost). */
    private static final class LongHeap {
        private long[] a;
        private int size;

        LongHeap(int capacity) {
            a = new long[capacity];
        }

        boolean isEmpty() {
            return size == 0;
        }

        void add(long v) {
            if (size == a.length) {
                a = Arrays.copyOf(a, size * 2);
            }
            int i = size++;
            while (i > 0) {
                int p = (i - 1) >>> 1;
                if (a[p] <= v) {
                    break;
                }
                a[i] = a[p];
                i = p;
            }
            a[i] = v;
        }

        long poll() {
            long top = a[0];
            long last = a[--size];
            int i = 0;
            while (true) {
                int c = 2 * i + 1;
                if (c >= size) {
                    break;
                }
                if (c + 1 < size && a[c + 1] < a[c]) {
                    c++;
                }
                if (a[c] >= last) {
                    break;
                }
                a[i] = a[c];
                i = c;
            }
            a[i] = last;
            return top;
        }
    }
}
