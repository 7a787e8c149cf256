package dev.nemotron4j.generate;

import java.util.List;

/**
 * Finds stop strings in streamed text that may span token boundaries. Text is released only once it can no longer be
 * the start of a stop string, so a caller streaming {@link #push} output never shows part of a stop sequence.
 */
public final class StopMatcher {
    private final List<String> stops;
    private final StringBuilder pending = new StringBuilder();
    private boolean stopped;
    private String matched;

    public StopMatcher(List<String> stops) {
        this.stops = stops.stream().filter(s -> !s.isEmpty()).toList();
    }

    /** Adds decoded text; returns the part that is now final (before any stop string). */
    public String push(String text) {
        if (stopped) {
            return "";
        }
        pending.append(text);
        int earliest = -1;
        for (String stop : stops) {
            int at = pending.indexOf(stop);
            if (at >= 0 && (earliest < 0 || at < earliest)) {
                earliest = at;
                matched = stop;
            }
        }
        if (earliest >= 0) {
            stopped = true;
            String out = pending.substring(0, earliest);
            pending.setLength(0);
            return out;
        }
        int keep = longestStopPrefixAtEnd();
        String out = pending.substring(0, pending.length() - keep);
        pending.delete(0, pending.length() - keep);
        return out;
    }

    /** Text held back as a possible stop-string start; released when generation ends without that stop. */
    public String flush() {
        String out = stopped ? "" : pending.toString();
        pending.setLength(0);
        return out;
    }

    public boolean stopped() {
        return stopped;
    }

    /** The stop string that ended the text, or null. */
    public String matched() {
        return matched;
    }

    private int longestStopPrefixAtEnd() {
        String text = pending.toString();
        int best = 0;
        for (String stop : stops) {
            for (int len = Math.min(stop.length() - 1, text.length()); len > best; len--) {
                if (text.regionMatches(text.length() - len, stop, 0, len)) {
                    best = len;
                    break;
                }
            }
        }
        return best;
    }
}
