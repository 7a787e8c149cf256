package dev.nemotron4j.tokenizer;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/** UTF-8 helpers with Rust {@code String::from_utf8_lossy} semantics (one U+FFFD per maximal invalid subpart). */
public final class Utf8 {
    private Utf8() {
    }

    /**
     * Decodes {@code bytes[from, to)} into {@code out}. When {@code last} is false an incomplete but so far valid
     * sequence at the end is left undecoded (it may be completed by later bytes). Returns the index after the last
     * consumed byte.
     */
    static int decodeLossy(byte[] bytes, int from, int to, boolean last, StringBuilder out) {
        int i = from;
        while (i < to) {
            int b0 = bytes[i] & 0xFF;
            if (b0 < 0x80) {
                out.append((char) b0);
                i++;
                continue;
            }
            int need;
            int lo = 0x80;
            int hi = 0xBF;
            if (b0 >= 0xC2 && b0 <= 0xDF) {
                need = 1;
            } else if (b0 >= 0xE0 && b0 <= 0xEF) {
                need = 2;
                if (b0 == 0xE0) {
                    lo = 0xA0;
                } else if (b0 == 0xED) {
                    hi = 0x9F; // surrogates are not valid UTF-8
                }
            } else if (b0 >= 0xF0 && b0 <= 0xF4) {
                need = 3;
                if (b0 == 0xF0) {
                    lo = 0x90;
                } else if (b0 == 0xF4) {
                    hi = 0x8F;
                }
            } else {
                out.append('\uFFFD');
                i++;
                continue;
            }
            int cp = b0 & (0x3F >> need);
            int j = i + 1;
            boolean bad = false;
            for (int k = 0; k < need; k++, j++) {
                if (j >= to) {
                    if (!last) {
                        return i;
                    }
                    bad = true;
                    break;
                }
                int b = bytes[j] & 0xFF;
                if (b < (k == 0 ? lo : 0x80) || b > (k == 0 ? hi : 0xBF)) {
                    bad = true;
                    break;
                }
                cp = (cp << 6) | (b & 0x3F);
            }
            if (bad) {
                out.append('\uFFFD');
                i = j; // the maximal valid prefix (lead + continuation bytes so far) becomes one replacement
                continue;
            }
            out.appendCodePoint(cp);
            i = j;
        }
        return i;
    }

    /** Strict decoding: rejects invalid UTF-8 with a {@link TokenizerException}. */
    public static String decodeStrict(byte[] bytes, String what) {
        try {
            return StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            throw new TokenizerException(what + " is not valid UTF-8", e);
        }
    }
}
