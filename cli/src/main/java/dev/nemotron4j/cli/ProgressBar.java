package dev.nemotron4j.cli;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * A byte-count progress bar for long jobs (downloads, model synthesis), one line per item, redrawn in place with
 * {@code \r} at most every 100 ms:
 * <pre>model.safetensors   42% [############                  ] 1.2 GiB / 2.9 GiB  85.3 MiB/s</pre>
 * When stderr is not a terminal (a log file, a pipe) only the finished line of each item is printed.
 */
final class ProgressBar {
    private static final int WIDTH = 30;

    private final PrintStream out;
    private final boolean interactive;
    private final LongSupplier nanoClock;
    private final long intervalNanos;

    private String item;
    private boolean finished;
    private long startNanos;
    private long startBytes;
    private long lastDrawNanos;
    private int lastLength;

    ProgressBar(PrintStream out) {
        this(out, stderrIsTerminal(), System::nanoTime, TimeUnit.MILLISECONDS.toNanos(100));
    }

    ProgressBar(PrintStream out, boolean interactive, LongSupplier nanoClock, long intervalNanos) {
        this.out = out;
        this.interactive = interactive;
        this.nanoClock = nanoClock;
        this.intervalNanos = intervalNanos;
    }

    /** Whether file descriptor 2 is a terminal (Linux: /proc names its target); false when it cannot tell. */
    private static boolean stderrIsTerminal() {
        try {
            String target = Files.readSymbolicLink(Path.of("/proc/self/fd/2")).toString();
            return target.startsWith("/dev/pts/") || target.startsWith("/dev/tty");
        } catch (IOException | UnsupportedOperationException e) {
            return false;
        }
    }

    /** {@code done} of {@code total} bytes of {@code label} (total ≤ 0: unknown); done == total finishes the line. */
    synchronized void update(String label, long done, long total) {
        long now = nanoClock.getAsLong();
        boolean complete = total > 0 && done >= total;
        if (!label.equals(item)) {
            if (item != null && !finished && interactive) {
                out.println();
            }
            item = label;
            finished = false;
            startNanos = now;
            startBytes = done;
            lastLength = 0;
        } else if (finished || (!complete && now - lastDrawNanos < intervalNanos)) {
            return;
        }
        lastDrawNanos = now;
        if (!interactive && !complete) {
            return;
        }
        String line = render(label, done, total, now - startNanos);
        // Pad over the tail of a longer previous line.
        out.print((interactive ? "\r" : "") + line + " ".repeat(Math.max(0, lastLength - line.length())));
        lastLength = line.length();
        if (complete) {
            finished = true;
            out.println();
        }
        out.flush();
    }

    private String render(String label, long done, long total, long elapsedNanos) {
        StringBuilder line = new StringBuilder(String.format(Locale.ROOT, "%-24s", label));
        if (total > 0) {
            double fraction = Math.min(1.0, (double) done / total);
            int filled = (int) (fraction * WIDTH);
            line.append(String.format(Locale.ROOT, " %3d%% [", (int) (fraction * 100)))
                    .append("#".repeat(filled)).append(" ".repeat(WIDTH - filled)).append("] ")
                    .append(size(done)).append(" / ").append(size(total));
        } else {
            line.append(' ').append(size(done));
        }
        long bytes = done - startBytes;
        if (elapsedNanos > 0 && bytes > 0) {
            line.append("  ").append(size((long) (bytes * 1e9 / elapsedNanos))).append("/s");
        }
        return line.toString();
    }

    static String size(long bytes) {
        if (bytes < 1024) {
            return bytes + " B";
        }
        String[] units = {"KiB", "MiB", "GiB", "TiB"};
        double value = bytes;
        int unit = -1;
        while (value >= 1024 && unit < units.length - 1) {
            value /= 1024;
            unit++;
        }
        return String.format(Locale.ROOT, "%.1f %s", value, units[unit]);
    }
}
