package dev.nemotron4j.hub;

import java.io.PrintStream;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.LongSupplier;

/**
 * A console progress bar for downloads, one line per file, redrawn in place with {@code \r} at most every 100 ms:
 * <pre>model.safetensors   42% [############                 ]  1.2 GiB / 2.9 GiB  85.3 MiB/s</pre>
 */
public final class ProgressBar implements Consumer<DownloadProgress> {
    private static final int WIDTH = 30;

    private final PrintStream out;
    private final LongSupplier nanoClock;
    private final long intervalNanos;

    private String file;
    private boolean finished;
    private long startNanos;
    private long startBytes;
    private long lastDrawNanos;
    private int lastLength;

    public ProgressBar(PrintStream out) {
        this(out, System::nanoTime, TimeUnit.MILLISECONDS.toNanos(100));
    }

    ProgressBar(PrintStream out, LongSupplier nanoClock, long intervalNanos) {
        this.out = out;
        this.nanoClock = nanoClock;
        this.intervalNanos = intervalNanos;
    }

    @Override
    public void accept(DownloadProgress p) {
        long now = nanoClock.getAsLong();
        if (!p.file().equals(file)) {
            if (file != null && !finished) {
                out.println();
            }
            file = p.file();
            finished = false;
            startNanos = now;
            startBytes = p.bytesDone();
            lastLength = 0;
        } else if (finished || (!p.complete() && now - lastDrawNanos < intervalNanos)) {
            return;
        }
        lastDrawNanos = now;
        String line = render(p, now - startNanos);
        // Pad over the tail of a longer previous line.
        out.print("\r" + line + " ".repeat(Math.max(0, lastLength - line.length())));
        lastLength = line.length();
        if (p.complete()) {
            finished = true;
            out.println();
        }
        out.flush();
    }

    private String render(DownloadProgress p, long elapsedNanos) {
        StringBuilder line = new StringBuilder(String.format(Locale.ROOT, "%-24s", p.file()));
        if (p.totalBytes() > 0) {
            double fraction = Math.min(1.0, (double) p.bytesDone() / p.totalBytes());
            int filled = (int) (fraction * WIDTH);
            line.append(String.format(Locale.ROOT, " %3d%% [", (int) (fraction * 100)))
                    .append("#".repeat(filled)).append(" ".repeat(WIDTH - filled)).append("] ")
                    .append(size(p.bytesDone())).append(" / ").append(size(p.totalBytes()));
        } else {
            line.append(' ').append(size(p.bytesDone()));
        }
        long bytes = p.bytesDone() - startBytes;
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
