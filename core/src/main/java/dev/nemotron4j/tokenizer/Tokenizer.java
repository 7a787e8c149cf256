package dev.nemotron4j.tokenizer;

import java.util.OptionalInt;

/** Text to token ids and back, exact to the reference implementation of the loaded tokenizer format. */
public interface Tokenizer {

    /**
     * Encodes {@code text}.
     *
     * @param addBos       prepend BOS (and append EOS when the tokenizer config asks for it), i.e. "add special tokens"
     * @param parseSpecial match special/control token strings in the text as single tokens (HF added tokens,
     *                     llama.cpp {@code parse_special}); user-defined symbols are always matched
     */
    int[] encode(String text, boolean addBos, boolean parseSpecial);

    /** Encodes with the tokenizer's default BOS setting, special strings as plain text. */
    default int[] encode(String text) {
        return encode(text, addBosByDefault(), false);
    }

    /** Decodes ids to text; control/special tokens produce no text. */
    default String decode(int[] ids) {
        return decode(ids, false);
    }

    /** Decodes ids to text; with {@code renderSpecial} control/special tokens are written as their piece text. */
    String decode(int[] ids, boolean renderSpecial);

    /** Incremental decoder for generated tokens (control tokens produce no text). */
    default StreamingDecoder streamingDecoder() {
        return streamingDecoder(false);
    }

    StreamingDecoder streamingDecoder(boolean renderSpecial);

    /** The vocabulary string of {@code id} (byte-level alphabet or {@code ▁}-escaped, as stored). */
    String piece(int id);

    int vocabSize();

    /** BOS id, or -1 when the vocabulary has none. */
    int bos();

    /** EOS id, or -1 when the vocabulary has none. */
    int eos();

    boolean addBosByDefault();

    boolean addEosByDefault();

    /** The id whose piece is exactly {@code piece}. */
    OptionalInt tokenId(String piece);

    /** True for control/special tokens (BOS, EOS, HF special added tokens): invisible in plain decoding. */
    boolean isControl(int id);
}
