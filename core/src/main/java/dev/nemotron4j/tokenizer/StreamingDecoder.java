package dev.nemotron4j.tokenizer;

import java.util.Arrays;

/**
 * Turns generated ids into text incrementally. {@link #push} returns only text that is final: the bytes of a
 * multi-byte character split over several tokens are held back until the character is complete, and invalid
 * sequences become U+FFFD exactly as a full {@link Tokenizer#decode} would produce them.
 */
public final class StreamingDecoder {
    private final PipelineTokenizer tokenizer;
    private final boolean renderSpecial;
    private byte[] pending = new byte[16];
    private int pendingLength;
    private boolean first = true;

    StreamingDecoder(PipelineTokenizer tokenizer, boolean renderSpecial) {
        this.tokenizer = tokenizer;
        this.renderSpecial = renderSpecial;
    }

    /** Adds one token and returns the text that became final (possibly empty). */
    public String push(int id) {
        byte[] surface = tokenizer.surface(id, renderSpecial);
        if (surface == null) {
            return "";
        }
        int from = 0;
        if (first && tokenizer.stripsLeadingSpace() && surface.length > 0 && surface[0] == ' ') {
            from = 1; // the dummy-prefix space added at encoding
        }
        first = false;
        append(surface, from);
        return drain(false);
    }

    /** Ends the stream: an incomplete trailing sequence becomes U+FFFD. */
    public String flush() {
        return drain(true);
    }

    private void append(byte[] bytes, int from) {
        int len = bytes.length - from;
        if (pendingLength + len > pending.length) {
            pending = Arrays.copyOf(pending, Math.max(pending.length * 2, pendingLength + len));
        }
        System.arraycopy(bytes, from, pending, pendingLength, len);
        pendingLength += len;
    }

    private String drain(boolean last) {
        StringBuilder out = new StringBuilder();
        int used = Utf8.decodeLossy(pending, 0, pendingLength, last, out);
        System.arraycopy(pending, used, pending, 0, pendingLength - used);
        pendingLength -= used;
        return out.toString();
    }
}
