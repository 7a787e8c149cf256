package dev.nemotron4j.tokenizer;

import java.nio.charset.StandardCharsets;
import java.util.OptionalInt;
import java.util.function.UnaryOperator;

/**
 * The tokenizer all loaders build: special-token split, then a format-specific encoder per raw text fragment;
 * decoding concatenates per-token byte surfaces and converts them to text.
 */
final class PipelineTokenizer implements Tokenizer {

    /** Encodes one raw-text fragment lying between special tokens. */
    interface FragmentEncoder {
        /**
         * @param atStart      the fragment starts at offset 0 of the text
         * @param afterSpecial the fragment starts the text or follows a matched special token
         */
        void encode(String text, boolean atStart, boolean afterSpecial, IntList out);
    }

    private final Vocab vocab;
    private final UnaryOperator<String> normalizer;
    private final SpecialSplitter splitter;
    private final FragmentEncoder encoder;
    private final byte[][] surfaces;
    private final boolean[] control;
    private final boolean stripLeadingSpace;
    private final int bos;
    private final int eos;
    private final boolean addBos;
    private final boolean addEos;

    /**
     * @param normalizer        applied to the whole text before the special-token split (identity for most formats)
     * @param surfaces          bytes each token decodes to (for control tokens: their text, shown only on request)
     * @param control           tokens hidden in plain decoding
     * @param stripLeadingSpace decoding drops one leading space of the first visible token (SentencePiece dummy prefix)
     */
    PipelineTokenizer(Vocab vocab, UnaryOperator<String> normalizer, SpecialSplitter splitter, FragmentEncoder encoder, byte[][] surfaces,
                      boolean[] control, boolean stripLeadingSpace, int bos, int eos, boolean addBos, boolean addEos) {
        this.vocab = vocab;
        this.normalizer = normalizer;
        this.splitter = splitter;
        this.encoder = encoder;
        this.surfaces = surfaces;
        this.control = control;
        this.stripLeadingSpace = stripLeadingSpace;
        this.bos = bos;
        this.eos = eos;
        this.addBos = addBos;
        this.addEos = addEos;
    }

    @Override
    public int[] encode(String text, boolean addSpecial, boolean parseSpecial) {
        IntList out = new IntList();
        if (addSpecial && addBos && bos >= 0) {
            out.add(bos);
        }
        boolean afterSpecial = true;
        for (SpecialSplitter.Fragment f : splitter.split(normalizer.apply(text), parseSpecial)) {
            if (f.isToken()) {
                out.add(f.id());
                afterSpecial = true;
            } else {
                encoder.encode(f.text(), f.start() == 0, afterSpecial, out);
                afterSpecial = false;
            }
        }
        if (addSpecial && addEos && eos >= 0) {
            out.add(eos);
        }
        return out.toArray();
    }

    @Override
    public String decode(int[] ids, boolean renderSpecial) {
        StreamingDecoder d = streamingDecoder(renderSpecial);
        StringBuilder sb = new StringBuilder();
        for (int id : ids) {
            sb.append(d.push(id));
        }
        return sb.append(d.flush()).toString();
    }

    @Override
    public StreamingDecoder streamingDecoder(boolean renderSpecial) {
        return new StreamingDecoder(this, renderSpecial);
    }

    /** The bytes {@code id} decodes to, or null when it produces no text. */
    byte[] surface(int id, boolean renderSpecial) {
        vocab.checkId(id);
        if (control[id] && !renderSpecial) {
            return null;
        }
        return surfaces[id];
    }

    boolean stripsLeadingSpace() {
        return stripLeadingSpace;
    }

    @Override
    public String piece(int id) {
        vocab.checkId(id);
        return vocab.pieces[id];
    }

    @Override
    public int vocabSize() {
        return vocab.size();
    }

    @Override
    public int bos() {
        return bos;
    }

    @Override
    public int eos() {
        return eos;
    }

    @Override
    public boolean addBosByDefault() {
        return addBos;
    }

    @Override
    public boolean addEosByDefault() {
        return addEos;
    }

    @Override
    public OptionalInt tokenId(String piece) {
        int id = vocab.id(piece);
        return id < 0 ? OptionalInt.empty() : OptionalInt.of(id);
    }

    @Override
    public boolean isControl(int id) {
        vocab.checkId(id);
        return control[id];
    }

    /** SentencePiece-style surface: byte tokens are one byte, {@code ▁} is a space, control tokens show their text. */
    static byte[][] spmSurfaces(Vocab vocab, String unknownSurface) {
        byte[][] s = new byte[vocab.size()][];
        for (int i = 0; i < s.length; i++) {
            String p = vocab.pieces[i] == null ? "" : vocab.pieces[i];
            s[i] = switch (vocab.types[i]) {
                case BYTE -> Vocab.byteValue(p) >= 0 ? new byte[] {(byte) Vocab.byteValue(p)} : utf8(p);
                case UNKNOWN -> utf8(unknownSurface == null ? p : unknownSurface);
                case CONTROL -> utf8(p);
                default -> utf8(p.replace('\u2581', ' '));
            };
        }
        return s;
    }

    /** Byte-level surface: normal tokens map back through the GPT-2 alphabet; control/user-defined tokens are raw text. */
    static byte[][] byteLevelSurfaces(Vocab vocab) {
        byte[][] s = new byte[vocab.size()][];
        for (int i = 0; i < s.length; i++) {
            String p = vocab.pieces[i] == null ? "" : vocab.pieces[i];
            byte[] b = vocab.types[i] == TokenType.NORMAL ? ByteLevel.decode(p) : null;
            s[i] = b != null ? b : utf8(p);
        }
        return s;
    }

    static boolean[] controlFlags(Vocab vocab) {
        boolean[] c = new boolean[vocab.size()];
        for (int i = 0; i < c.length; i++) {
            c[i] = vocab.types[i] == TokenType.CONTROL;
        }
        return c;
    }

    static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
