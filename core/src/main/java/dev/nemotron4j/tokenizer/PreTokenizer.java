package dev.nemotron4j.tokenizer;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Splits a text fragment into the pieces ("words") that BPE runs on, possibly rewriting them. */
interface PreTokenizer {

    /** @param atStart the fragment begins at offset 0 of the encoded text (Metaspace's "first" scheme) */
    List<String> split(String text, boolean atStart);

    /** GPT-2's pattern, used by the HF ByteLevel pre-tokenizer with {@code use_regex}. */
    String GPT2_PATTERN = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";

    /** HF {@code SplitDelimiterBehavior}. */
    enum Behavior { ISOLATED, REMOVED, MERGED_WITH_PREVIOUS, MERGED_WITH_NEXT, CONTIGUOUS }

    /**
     * Compiles a pattern with Unicode semantics for {@code \s}, {@code \w}, {@code \d} (as Rust regex,
     * Oniguruma and llama.cpp have them; Java's defaults are ASCII-only).
     */
    static Pattern compile(String regex) {
        try {
            return Pattern.compile(regex, Pattern.UNICODE_CHARACTER_CLASS);
        } catch (RuntimeException e) {
            throw new TokenizerException("unsupported pre-tokenizer regex " + regex + ": " + e.getMessage(), e);
        }
    }

    /** Regex split (HF {@code Split}; llama.cpp's regex lists are a sequence of these with ISOLATED). */
    record RegexSplit(Pattern pattern, Behavior behavior, boolean invert) implements PreTokenizer {
        @Override
        public List<String> split(String text, boolean atStart) {
            List<String> parts = new ArrayList<>();
            List<Boolean> isMatch = new ArrayList<>();
            Matcher m = pattern.matcher(text);
            int last = 0;
            while (m.find()) {
                if (m.end() == m.start()) {
                    continue; // empty matches split nothing
                }
                if (m.start() > last) {
                    parts.add(text.substring(last, m.start()));
                    isMatch.add(invert);
                }
                parts.add(m.group());
                isMatch.add(!invert);
                last = m.end();
            }
            if (last < text.length()) {
                parts.add(text.substring(last));
                isMatch.add(invert);
            }
            if (behavior == Behavior.ISOLATED) {
                return parts;
            }
            List<String> out = new ArrayList<>();
            StringBuilder pending = new StringBuilder();
            boolean pendingMatch = false;
            for (int i = 0; i < parts.size(); i++) {
                String p = parts.get(i);
                boolean match = isMatch.get(i);
                switch (behavior) {
                    case REMOVED -> {
                        if (!match) {
                            out.add(p);
                        }
                    }
                    case MERGED_WITH_PREVIOUS -> {
                        if (match && !out.isEmpty()) {
                            out.set(out.size() - 1, out.getLast() + p);
                        } else {
                            out.add(p);
                        }
                    }
                    case MERGED_WITH_NEXT -> {
                        if (match) {
                            pending.append(p);
                        } else {
                            out.add(pending + p);
                            pending.setLength(0);
                        }
                    }
                    case CONTIGUOUS -> {
                        if (match && pendingMatch && !out.isEmpty()) {
                            out.set(out.size() - 1, out.getLast() + p);
                        } else {
                            out.add(p);
                        }
                        pendingMatch = match;
                    }
                    default -> throw new IllegalStateException();
                }
            }
            if (!pending.isEmpty()) {
                out.add(pending.toString());
            }
            return out;
        }
    }

    /** HF {@code ByteLevel}: optional GPT-2 split, then every piece written in the byte-level alphabet. */
    record ByteLevelSplit(boolean addPrefixSpace, Pattern gpt2) implements PreTokenizer {
        @Override
        public List<String> split(String text, boolean atStart) {
            String t = addPrefixSpace && !text.startsWith(" ") ? " " + text : text;
            List<String> parts = gpt2 == null ? List.of(t) : new RegexSplit(gpt2, Behavior.ISOLATED, false).split(t, atStart);
            List<String> out = new ArrayList<>(parts.size());
            for (String p : parts) {
                out.add(ByteLevel.encode(p));
            }
            return out;
        }
    }

    /** HF {@code Metaspace}: spaces become the replacement char, optional prefix, optional split before each one. */
    record Metaspace(String replacement, String prependScheme, boolean splitWords) implements PreTokenizer {
        @Override
        public List<String> split(String text, boolean atStart) {
            String t = text.replace(" ", replacement);
            boolean prepend = switch (prependScheme) {
                case "always" -> true;
                case "first" -> atStart;
                default -> false;
            };
            if (prepend && !t.startsWith(replacement)) {
                t = replacement + t;
            }
            if (!splitWords) {
                return List.of(t);
            }
            List<String> out = new ArrayList<>();
            int from = 0;
            for (int i = t.indexOf(replacement, 1); i >= 0; i = t.indexOf(replacement, i + 1)) {
                out.add(t.substring(from, i));
                from = i;
            }
            out.add(t.substring(from));
            return out;
        }
    }

    /** Applies several pre-tokenizers, each to every piece the previous one produced. */
    record Sequence(List<PreTokenizer> steps) implements PreTokenizer {
        @Override
        public List<String> split(String text, boolean atStart) {
            List<String> pieces = List.of(text);
            for (PreTokenizer step : steps) {
                List<String> next = new ArrayList<>();
                boolean first = atStart;
                for (String p : pieces) {
                    next.addAll(step.split(p, first));
                    first = false;
                }
                pieces = next;
            }
            return pieces;
        }
    }
}
