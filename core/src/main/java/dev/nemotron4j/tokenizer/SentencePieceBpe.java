package dev.nemotron4j.tokenizer;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.BitSet;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * SentencePiece BPE by piece score (sentencepiece {@code bpe_model.cc}, llama.cpp {@code llm_tokenizer_spm}):
 * start from single code points, repeatedly merge the adjacent pair whose concatenation is the vocabulary piece
 * with the highest score (ties: leftmost), then map every symbol to its id, falling back to {@code <0xNN>} byte
 * tokens (or unk) for symbols without a piece.
 *
 * <p>For speed the text is cut into words at the {@code ▁} positions no piece can span (see {@link #encode}); the
 * words are merged independently, each with the same result it gets inside the whole text, and cached.
 */
final class SentencePieceBpe {
    private static final char SPACE = '\u2581';
    private static final int CACHE_LIMIT = 100_000;
    private static final int CACHED_WORD_LENGTH = 64;

    private final Vocab vocab;
    private final PieceIndex index;
    /** Which ids a merge may produce (sentencepiece: normal, user-defined, unused pieces; llama.cpp: any). */
    private final boolean[] mergeable;
    private final boolean byteFallback;
    /** Longest piece in chars: longer concatenations cannot be pieces, so their lookup is skipped. */
    private final int maxPieceLength;
    /** Code points that some piece has directly before a {@code ▁}: only after these can a merge cross a {@code ▁}. */
    private final BitSet joinsSpace = new BitSet();
    private final Map<String, int[]> cache = new ConcurrentHashMap<>();

    SentencePieceBpe(Vocab vocab, boolean[] mergeable, boolean byteFallback) {
        this.vocab = vocab;
        this.index = new PieceIndex(vocab.pieces, null);
        this.mergeable = mergeable;
        this.byteFallback = byteFallback;
        int max = 0;
        for (String p : vocab.pieces) {
            if (p == null) {
                continue;
            }
            max = Math.max(max, p.length());
            for (int i = p.indexOf(SPACE, 1); i > 0; i = p.indexOf(SPACE, i + 1)) {
                joinsSpace.set(p.codePointBefore(i));
            }
        }
        this.maxPieceLength = max;
    }

    /**
     * A merge that crosses the position before a {@code ▁} produces a piece containing the char before it followed
     * by {@code ▁}. Where no piece contains that pair, no merge ever crosses, so both sides merge independently and
     * in the same order as in one queue (a merge on one side never changes a candidate pair of the other).
     */
    void encode(String text, IntList out) {
        int from = 0;
        for (int i = text.indexOf(SPACE, 1); i > 0; i = text.indexOf(SPACE, i + 1)) {
            if (!joinsSpace.get(text.codePointBefore(i))) {
                encodeWord(text.substring(from, i), out);
                from = i;
            }
        }
        if (from < text.length()) {
            encodeWord(text.substring(from), out);
        }
    }

    private void encodeWord(String word, IntList out) {
        int[] ids;
        if (word.length() <= CACHED_WORD_LENGTH) {
            ids = cache.get(word);
            if (ids == null) {
                ids = merge(word);
                if (cache.size() >= CACHE_LIMIT) {
                    cache.clear();
                }
                cache.put(word, ids);
            }
        } else {
            ids = merge(word);
        }
        for (int id : ids) {
            out.add(id);
        }
    }

    private int[] merge(String word) {
        int n = word.codePointCount(0, word.length());
        // symbols: live spans in a linked list; nodes: the merge tree (0..n-1 code points, then one per merge)
        int[] start = new int[n];
        int[] end = new int[n];
        int[] prev = new int[n];
        int[] next = new int[n];
        int[] node = new int[n];
        int[] nodeFrom = new int[2 * n];
        int[] nodeTo = new int[2 * n];
        int[] leftChild = new int[2 * n];
        int[] rightChild = new int[2 * n];
        for (int i = 0, pos = 0; i < n; i++) {
            start[i] = pos;
            pos += Character.charCount(word.codePointAt(pos));
            end[i] = pos;
            prev[i] = i - 1;
            next[i] = i + 1 < n ? i + 1 : -1;
            node[i] = i;
            nodeFrom[i] = start[i];
            nodeTo[i] = end[i];
        }
        int nodes = n;
        PairHeap agenda = new PairHeap(n);
        for (int i = 1; i < n; i++) {
            queue(word, i - 1, i, start, end, agenda);
        }
        while (!agenda.isEmpty()) {
            int l = agenda.topLeft();
            int id = agenda.topId();
            agenda.pop();
            int r = start[l] < 0 ? -1 : next[l];
            // spans only grow, so an unchanged span length means the queued pair is still current
            if (r < 0 || end[r] - start[l] != vocab.pieces[id].length()) {
                continue;
            }
            nodeFrom[nodes] = start[l];
            nodeTo[nodes] = end[r];
            leftChild[nodes] = node[l];
            rightChild[nodes] = node[r];
            node[l] = nodes++;
            end[l] = end[r];
            start[r] = -1;
            next[l] = next[r];
            if (next[r] >= 0) {
                prev[next[r]] = l;
            }
            if (prev[l] >= 0) {
                queue(word, prev[l], l, start, end, agenda);
            }
            if (next[l] >= 0) {
                queue(word, l, next[l], start, end, agenda);
            }
        }
        IntList out = new IntList();
        for (int i = 0; i >= 0; i = next[i]) {
            resegment(word, node[i], n, nodeFrom, nodeTo, leftChild, rightChild, out);
        }
        return out.toArray();
    }

    private void queue(String word, int l, int r, int[] start, int[] end, PairHeap agenda) {
        if (end[r] - start[l] > maxPieceLength) {
            return;
        }
        int id = index.id(word, start[l], end[r]);
        if (id >= 0 && (mergeable == null || mergeable[id])) {
            agenda.add(vocab.scores[id], l, id);
        }
    }

    /** Emits a symbol's piece, or splits it back into the two parts it was merged from, or falls back to bytes / unk. */
    private void resegment(String word, int k, int leaves, int[] nodeFrom, int[] nodeTo, int[] leftChild, int[] rightChild,
                           IntList out) {
        int from = nodeFrom[k];
        int to = nodeTo[k];
        int id = index.id(word, from, to);
        if (id >= 0 && vocab.types[id] != TokenType.UNUSED) {
            out.add(id);
            return;
        }
        if (k >= leaves) {
            resegment(word, leftChild[k], leaves, nodeFrom, nodeTo, leftChild, rightChild, out);
            resegment(word, rightChild[k], leaves, nodeFrom, nodeTo, leftChild, rightChild, out);
            return;
        }
        String piece = word.substring(from, to);
        if (byteFallback && vocab.addBytes(piece, out)) {
            return;
        }
        if (vocab.unk < 0) {
            throw new TokenizerException("no token for '" + piece + "' and the vocabulary has no unknown token");
        }
        out.add(vocab.unk);
    }

    /**
     * Max-heap of candidate pairs by (score desc, left symbol asc), packed into a long key for a primitive min-heap,
     * with the id of the merged piece alongside.
     */
    private static final class PairHeap {
        private long[] keys;
        private int[] ids;
        private int size;

        PairHeap(int capacity) {
            keys = new long[Math.max(capacity, 4)];
            ids = new int[keys.length];
        }

        boolean isEmpty() {
            return size == 0;
        }

        void add(float score, int left, int id) {
            int bits = Float.floatToIntBits(score + 0.0f); // -0.0 ties with 0.0, as in the float comparison
            int ordered = bits ^ ((bits >> 31) & 0x7FFFFFFF); // int order == float order
            long key = ((long) ~ordered << 32) | left;
            if (size == keys.length) {
                keys = Arrays.copyOf(keys, size * 2);
                ids = Arrays.copyOf(ids, size * 2);
            }
            int i = size++;
            while (i > 0) {
                int p = (i - 1) >>> 1;
                if (keys[p] <= key) {
                    break;
                }
                keys[i] = keys[p];
                ids[i] = ids[p];
                i = p;
            }
            keys[i] = key;
            ids[i] = id;
        }

        int topLeft() {
            return (int) keys[0];
        }

        int topId() {
            return ids[0];
        }

        void pop() {
            long key = keys[--size];
            int id = ids[size];
            int i = 0;
            while (true) {
                int c = 2 * i + 1;
                if (c >= size) {
                    break;
                }
                if (c + 1 < size && keys[c + 1] < keys[c]) {
                    c++;
                }
                if (keys[c] >= key) {
                    break;
                }
                keys[i] = keys[c];
                ids[i] = ids[c];
                i = c;
            }
            keys[i] = key;
            ids[i] = id;
        }
    }
}
