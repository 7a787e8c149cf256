package dev.nemotron4j.tokenizer;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Splits text around special/added token strings, leftmost-longest match first. Tokens flagged {@code always}
 * are matched regardless of the parse-special switch (user-defined symbols, HF non-special added tokens).
 */
final class SpecialSplitter {
    private record Entry(String text, int id, boolean always, boolean rstrip) {
    }

    /** One piece of the split: raw text (id = -1) or a matched token. {@code start} is its offset in the input. */
    record Fragment(String text, int id, int start) {
        boolean isToken() {
            return id >= 0;
        }
    }

    private final Map<Character, Entry[]> byFirstChar = new HashMap<>();

    SpecialSplitter(Map<String, Integer> tokens, Map<String, Boolean> always) {
        this(tokens, always, Set.of());
    }

    /** @param rstrip tokens that swallow the ASCII whitespace following them (llama.cpp's RSTRIP attribute) */
    SpecialSplitter(Map<String, Integer> tokens, Map<String, Boolean> always, Set<String> rstrip) {
        Map<Character, List<Entry>> lists = new HashMap<>();
        tokens.forEach((text, id) -> {
            if (!text.isEmpty()) {
                lists.computeIfAbsent(text.charAt(0), c -> new ArrayList<>())
                        .add(new Entry(text, id, always.getOrDefault(text, false), rstrip.contains(text)));
            }
        });
        lists.forEach((c, l) -> {
            l.sort(Comparator.comparingInt((Entry e) -> e.text.length()).reversed());
            byFirstChar.put(c, l.toArray(Entry[]::new));
        });
    }

    boolean isEmpty() {
        return byFirstChar.isEmpty();
    }

    List<Fragment> split(String text, boolean parseSpecial) {
        List<Fragment> out = new ArrayList<>();
        int rawStart = 0;
        int i = 0;
        while (i < text.length()) {
            Entry match = null;
            Entry[] candidates = byFirstChar.get(text.charAt(i));
            if (candidates != null) {
                for (Entry e : candidates) {
                    if ((parseSpecial || e.always) && text.startsWith(e.text, i)) {
                        match = e;
                        break;
                    }
                }
            }
            if (match == null) {
                i++;
                continue;
            }
            if (i > rawStart) {
                out.add(new Fragment(text.substring(rawStart, i), -1, rawStart));
            }
            out.add(new Fragment(match.text, match.id, i));
            i += match.text.length();
            while (match.rstrip && i < text.length() && " \t\n\u000B\f\r".indexOf(text.charAt(i)) >= 0) {
                i++;
            }
            rawStart = i;
        }
        if (rawStart < text.length()) {
            out.add(new Fragment(text.substring(rawStart), -1, rawStart));
        }
        return out;
    }
}
