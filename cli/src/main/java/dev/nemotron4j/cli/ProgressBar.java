package dev.nemotron4j.cli;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * A byte-count progress bar on stderr, redrawn in place with {@code \r} at most five times a second. When stderr is
 * not a terminal (a log file, a pipe) it prints nothing until {@link #finish}, which prints one summary line.
 */
final class ProgressBar {
    private static final long REDRAW_NANOS = 200_000_000L;
    private static final int WIDTH = 30;

    private final PrintStream out;
    private final String label;
    private final boolean interactive;
    private final long startNanos = System.nanoTime();
    private long lastDraw;
    private long done;
    private long total;

    ProgressBar(PrintStream out, String label) {
        this.out = out;
        this.label = label;
        this.interactive = stderrIsTerminal();
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

    synchronized void update(long done, long total) {
        this.done = done;
        this.total = total;
        long now = System.nanoTime();
        if (interactive && (now - lastDraw >= REDRAW_NANOS || done == total)) {
            lastDraw = now;
            double fraction = total == 0 ? 1 : (double) done / total;
            int filled = (int) Math.round(fraction * WIDTH);
            out.printf(Locale.ROOT, "\r%s [%s%s] %5.1f%%  %s / %s  %.0fs", label, "#".repeat(filled),
                    " ".repeat(WIDTH - filled), 100 * fraction, mb(done), mb(total), seconds());
            out.flush();
        }
    }

    synchronized void finish() {
        if (interactive) {
            out.print("\r\033[K");
        }
        out.printf(Locale.ROOT, "%s: %s in %.1fs (%.0f MB/s)%n", label, mb(done), seconds(),
                done / 1e6 / Math.max(1e-9, seconds()));
        out.flush();
    }

    private double seconds() {
        return (System.nanoTime() - startNanos) / 1e9;
    }

    private static String mb(long bytes) {
        return String.format(Locale.ROOT, "%.1f MB", bytes / 1e6);
    }
}
