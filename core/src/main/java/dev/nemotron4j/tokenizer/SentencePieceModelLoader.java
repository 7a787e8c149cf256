package dev.nemotron4j.tokenizer;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;

/**
 * Reads a SentencePiece {@code tokenizer.model} (protobuf {@code ModelProto}) and builds a tokenizer with
 * sentencepiece's semantics: normalise the whole text (extra-whitespace removal, dummy prefix, {@code ▁} escaping),
 * user-defined symbols as unbreakable pieces, then BPE by score or unigram Viterbi segmentation.
 */
final class SentencePieceModelLoader {
    private SentencePieceModelLoader() {
    }

    private static final int MODEL_UNIGRAM = 1;
    private static final int MODEL_BPE = 2;

    /** Minimal protobuf wire-format reader. */
    private static final class Proto {
        final byte[] buf;
        int pos;
        final int end;

        Proto(byte[] buf, int from, int to) {
            this.buf = buf;
            this.pos = from;
            this.end = to;
        }

        boolean more() {
            return pos < end;
        }

        long varint() {
            long v = 0;
            for (int shift = 0; shift < 64; shift += 7) {
                if (pos >= end) {
                    throw new TokenizerException("tokenizer.model: truncated varint");
                }
                byte b = buf[pos++];
                v |= (long) (b & 0x7F) << shift;
                if (b >= 0) {
                    return v;
                }
            }
            throw new TokenizerException("tokenizer.model: malformed varint");
        }

        /** Sub-reader over a length-delimited field. */
        Proto bytes() {
            long len = varint();
            if (len < 0 || len > end - pos) {
                throw new TokenizerException("tokenizer.model: field length " + len + " exceeds the message");
            }
            Proto p = new Proto(buf, pos, pos + (int) len);
            pos += (int) len;
            return p;
        }

        String string() {
            Proto p = bytes();
            return new String(buf, p.pos, p.end - p.pos, StandardCharsets.UTF_8);
        }

        float fixed32Float() {
            if (end - pos < 4) {
                throw new TokenizerException("tokenizer.model: truncated fixed32");
            }
            int v = (buf[pos] & 0xFF) | (buf[pos + 1] & 0xFF) << 8 | (buf[pos + 2] & 0xFF) << 16 | (buf[pos + 3] & 0xFF) << 24;
            pos += 4;
            return Float.intBitsToFloat(v);
        }

        void skip(int wireType) {
            switch (wireType) {
                case 0 -> varint();
                case 1 -> pos += 8;
                case 2 -> bytes();
                case 5 -> pos += 4;
                default -> throw new TokenizerException("tokenizer.model: unsupported protobuf wire type " + wireType
                        + " (not a SentencePiece model?)");
            }
            if (pos > end) {
                throw new TokenizerException("tokenizer.model: truncated field");
            }
        }
    }

    static Tokenizer load(byte[] data, TokenizerConfig config) {
        List<String> pieces = new ArrayList<>();
        List<Float> scores = new ArrayList<>();
        List<TokenType> types = new ArrayList<>();
        int modelType = MODEL_UNIGRAM;
        boolean byteFallback = false;
        boolean treatWhitespaceAsSuffix = false;
        boolean addDummyPrefix = true;
        boolean removeExtraWhitespaces = true;
        boolean escapeWhitespaces = true;
        byte[] charsmap = new byte[0];
        String unkSurface = " \u2047 ";
        Proto p = new Proto(data, 0, data.length);
        while (p.more()) {
            long tag = p.varint();
            int field = (int) (tag >>> 3);
            int wire = (int) (tag & 7);
            if (field == 1 && wire == 2) { // SentencePiece
                Proto sp = p.bytes();
                String piece = null;
                float score = 0;
                int type = 1;
                while (sp.more()) {
                    long t = sp.varint();
                    int f = (int) (t >>> 3);
                    if (f == 1 && (t & 7) == 2) {
                        piece = sp.string();
                    } else if (f == 2 && (t & 7) == 5) {
                        score = sp.fixed32Float();
                    } else if (f == 3 && (t & 7) == 0) {
                        type = (int) sp.varint();
                    } else {
                        sp.skip((int) (t & 7));
                    }
                }
                if (piece == null) {
                    throw new TokenizerException("tokenizer.model: piece " + pieces.size() + " has no text");
                }
                pieces.add(piece);
                scores.add(score);
                types.add(TokenType.fromCode(type));
            } else if (field == 2 && wire == 2) { // TrainerSpec
                Proto ts = p.bytes();
                while (ts.more()) {
                    long t = ts.varint();
                    int f = (int) (t >>> 3);
                    if (f == 3 && (t & 7) == 0) {
                        modelType = (int) ts.varint();
                    } else if (f == 35 && (t & 7) == 0) {
                        byteFallback = ts.varint() != 0;
                    } else if (f == 24 && (t & 7) == 0) {
                        treatWhitespaceAsSuffix = ts.varint() != 0;
                    } else if (f == 44 && (t & 7) == 2) {
                        unkSurface = ts.string();
                    } else {
                        ts.skip((int) (t & 7));
                    }
                }
            } else if (field == 3 && wire == 2) { // NormalizerSpec
                Proto ns = p.bytes();
                while (ns.more()) {
                    long t = ns.varint();
                    int f = (int) (t >>> 3);
                    if (f == 2 && (t & 7) == 2) {
                        Proto b = ns.bytes();
                        charsmap = Arrays.copyOfRange(b.buf, b.pos, b.end);
                    } else if (f == 3 && (t & 7) == 0) {
                        addDummyPrefix = ns.varint() != 0;
                    } else if (f == 4 && (t & 7) == 0) {
                        removeExtraWhitespaces = ns.varint() != 0;
                    } else if (f == 5 && (t & 7) == 0) {
                        escapeWhitespaces = ns.varint() != 0;
                    } else {
                        ns.skip((int) (t & 7));
                    }
                }
            } else {
                p.skip(wire);
            }
        }
        if (pieces.isEmpty()) {
            throw new TokenizerException("tokenizer.model: no pieces (not a SentencePiece model?)");
        }
        if (modelType != MODEL_BPE && modelType != MODEL_UNIGRAM) {
            throw new TokenizerException("tokenizer.model: model_type " + modelType + " is not supported (only BPE and UNIGRAM)");
        }
        if (charsmap.length > 0) {
            throw new TokenizerException("tokenizer.model: a precompiled normalization charsmap is not supported "
                    + "(only the identity normalizer)");
        }
        if (treatWhitespaceAsSuffix) {
            throw new TokenizerException("tokenizer.model: treat_whitespace_as_suffix is not supported");
        }
        int n = pieces.size();
        String[] pieceArr = pieces.toArray(String[]::new);
        TokenType[] typeArr = types.toArray(TokenType[]::new);
        float[] scoreArr = new float[n];
        int unk = -1;
        for (int i = 0; i < n; i++) {
            scoreArr[i] = scores.get(i);
            if (typeArr[i] == TokenType.UNKNOWN && unk < 0) {
                unk = i;
            }
        }
        Vocab vocab = new Vocab(pieceArr, typeArr, scoreArr, unk);
        boolean[] mergeable = new boolean[n];
        Map<String, Integer> specials = new HashMap<>();
        Map<String, Boolean> always = new HashMap<>();
        for (int i = 0; i < n; i++) {
            TokenType t = typeArr[i];
            mergeable[i] = t == TokenType.NORMAL || t == TokenType.USER_DEFINED || t == TokenType.UNUSED;
            if (t == TokenType.USER_DEFINED || t == TokenType.CONTROL) {
                // user-defined symbols are always one piece; control pieces only when special parsing is asked for
                specials.putIfAbsent(pieceArr[i], i);
                always.put(pieceArr[i], t == TokenType.USER_DEFINED);
            }
        }
        SpecialSplitter splitter = new SpecialSplitter(specials, always);
        PipelineTokenizer.FragmentEncoder encoder;
        if (modelType == MODEL_BPE) {
            SentencePieceBpe bpe = new SentencePieceBpe(vocab, mergeable, byteFallback);
            encoder = (text, atStart, afterSpecial, out) -> bpe.encode(text, out);
        } else {
            Unigram unigram = Unigram.sentencePiece(vocab, byteFallback);
            encoder = (text, atStart, afterSpecial, out) -> unigram.encode(text, out);
        }
        boolean dummy = addDummyPrefix;
        boolean removeWs = removeExtraWhitespaces;
        boolean escape = escapeWhitespaces;
        // sentencepiece normalises the whole text first, then matches user-defined symbols inside the result
        UnaryOperator<String> normalizer = text -> {
            String t = removeWs ? removeExtraWhitespaces(text) : text;
            if (t.isEmpty()) {
                return t;
            }
            if (dummy) {
                t = " " + t;
            }
            return escape ? t.replace(' ', '\u2581') : t;
        };
        int bos = config.resolveId(vocab, config.bosToken(), config.bosId(), "<s>");
        int eos = config.resolveId(vocab, config.eosToken(), config.eosId(), "</s>");
        return new PipelineTokenizer(vocab, normalizer, splitter, encoder,
                PipelineTokenizer.spmSurfaces(vocab, unkSurface), PipelineTokenizer.controlFlags(vocab), dummy || removeWs,
                bos, eos, config.addBos(bos >= 0), config.addEos(false));
    }

    /** Drops leading and trailing spaces and collapses runs of spaces into one (sentencepiece's normalizer). */
    private static String removeExtraWhitespaces(String text) {
        StringBuilder sb = new StringBuilder(text.length());
        boolean prevSpace = true;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c == ' ') {
                if (!prevSpace) {
                    sb.append(c);
                }
                prevSpace = true;
            } else {
                sb.append(c);
                prevSpace = false;
            }
        }
        int len = sb.length();
        if (len > 0 && sb.charAt(len - 1) == ' ') {
            sb.setLength(len - 1);
        }
        return sb.toString();
    }
}
