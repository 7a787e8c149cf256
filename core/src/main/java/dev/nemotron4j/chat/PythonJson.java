package dev.nemotron4j.chat;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * Python's {@code json.dumps} as Hugging Face's chat-template {@code tojson} calls it: keys in insertion order unless
 * {@code sort_keys}, separators {@code ", "} and {@code ": "} (or {@code ","} and {@code ": "} with an indent), floats
 * written like Python's {@code repr}, non-ASCII kept as is unless {@code ensure_ascii}. Jinjava's own {@code tojson}
 * is compact and so would change the prompt the model was trained on.
 */
public final class PythonJson {
    private final String indent;
    private final String itemSeparator;
    private final String keySeparator;
    private final boolean sortKeys;
    private final boolean ensureAscii;

    private PythonJson(String indent, String itemSeparator, String keySeparator, boolean sortKeys, boolean ensureAscii) {
        this.indent = indent;
        this.itemSeparator = itemSeparator;
        this.keySeparator = keySeparator;
        this.sortKeys = sortKeys;
        this.ensureAscii = ensureAscii;
    }

    /** {@code json.dumps(value, ensure_ascii=False)}. */
    public static String dumps(Object value) {
        return dumps(value, null, null, null, false, false);
    }

    /**
     * {@code json.dumps} with its keyword arguments; {@code indent} null = single line, else that many spaces (or the
     * given string) per level; null separators take Python's defaults for the chosen indent.
     */
    public static String dumps(Object value, String indent, String itemSeparator, String keySeparator,
                               boolean sortKeys, boolean ensureAscii) {
        String items = itemSeparator != null ? itemSeparator : indent == null ? ", " : ",";
        String keys = keySeparator != null ? keySeparator : ": ";
        StringBuilder out = new StringBuilder();
        new PythonJson(indent, items, keys, sortKeys, ensureAscii).write(out, value, 0);
        return out.toString();
    }

    private void write(StringBuilder out, Object value, int depth) {
        switch (value) {
            case null -> out.append("null");
            case Boolean b -> out.append(b ? "true" : "false");
            case CharSequence s -> writeString(out, s.toString());
            case Character c -> writeString(out, c.toString());
            case Double d -> out.append(floatRepr(d));
            case Float f -> out.append(floatRepr(f.doubleValue()));
            case BigDecimal d -> out.append(floatRepr(d.doubleValue()));
            case Byte _, Short _, Integer _, Long _, BigInteger _ -> out.append(value);
            case Map<?, ?> map -> writeMap(out, map, depth);
            case Iterable<?> items -> writeList(out, items.iterator(), depth);
            case Object[] array -> writeList(out, List.of(array).iterator(), depth);
            default -> throw new ChatTemplateException(
                    "tojson: object of type " + value.getClass().getSimpleName() + " is not JSON serializable");
        }
    }

    private void writeMap(StringBuilder out, Map<?, ?> map, int depth) {
        if (map.isEmpty()) {
            out.append("{}");
            return;
        }
        List<Member> members = new ArrayList<>();
        for (Map.Entry<?, ?> e : map.entrySet()) {
            members.add(new Member(keyString(e.getKey()), e.getValue()));
        }
        if (sortKeys) {
            members.sort(Comparator.comparing(Member::key));
        }
        out.append('{');
        for (int i = 0; i < members.size(); i++) {
            separate(out, i, depth + 1);
            writeString(out, members.get(i).key());
            out.append(keySeparator);
            write(out, members.get(i).value(), depth + 1);
        }
        close(out, depth, '}');
    }

    private record Member(String key, Object value) {
    }

    private void writeList(StringBuilder out, Iterator<?> items, int depth) {
        if (!items.hasNext()) {
            out.append("[]");
            return;
        }
        out.append('[');
        for (int i = 0; items.hasNext(); i++) {
            separate(out, i, depth + 1);
            write(out, items.next(), depth + 1);
        }
        close(out, depth, ']');
    }

    private void separate(StringBuilder out, int index, int depth) {
        if (index > 0) {
            out.append(itemSeparator);
        }
        if (indent != null) {
            out.append('\n').append(indent.repeat(depth));
        }
    }

    private void close(StringBuilder out, int depth, char bracket) {
        if (indent != null) {
            out.append('\n').append(indent.repeat(depth));
        }
        out.append(bracket);
    }

    /** Python's json turns non-string keys into strings: booleans and None the JSON way, floats by repr. */
    private static String keyString(Object key) {
        return switch (key) {
            case null -> "null";
            case Boolean b -> b ? "true" : "false";
            case Double d -> floatRepr(d);
            case Float f -> floatRepr(f.doubleValue());
            default -> key.toString();
        };
    }

    private void writeString(StringBuilder out, String s) {
        out.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                case '\b' -> out.append("\\b");
                case '\f' -> out.append("\\f");
                default -> {
                    if (c < 0x20 || (ensureAscii && c > 0x7e)) {
                        out.append(String.format("\\u%04x", (int) c));
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        out.append('"');
    }

    /**
     * Python's {@code repr(float)}: the shortest digits that round-trip (Java's {@link Double#toString} picks the same
     * digits), positional notation for decimal exponents -4..15, else {@code d.ddde+XX}; NaN and infinities the way
     * json.dumps writes them.
     */
    static String floatRepr(double d) {
        if (Double.isNaN(d)) {
            return "NaN";
        }
        if (Double.isInfinite(d)) {
            return d > 0 ? "Infinity" : "-Infinity";
        }
        String sign = (d < 0 || (d == 0 && 1 / d < 0)) ? "-" : "";
        if (d == 0) {
            return sign + "0.0";
        }
        BigDecimal exact = new BigDecimal(Double.toString(Math.abs(d))).stripTrailingZeros();
        String digits = exact.unscaledValue().toString();
        int point = digits.length() - exact.scale(); // value = 0.<digits> * 10^point
        if (point > 16 || point < -3) {
            String mantissa = digits.length() == 1 ? digits : digits.charAt(0) + "." + digits.substring(1);
            int exponent = point - 1;
            return sign + mantissa + "e" + (exponent < 0 ? "-" : "+") + String.format("%02d", Math.abs(exponent));
        }
        if (point <= 0) {
            return sign + "0." + "0".repeat(-point) + digits;
        }
        if (point >= digits.length()) {
            return sign + digits + "0".repeat(point - digits.length()) + ".0";
        }
        return sign + digits.substring(0, point) + "." + digits.substring(point);
    }
}
