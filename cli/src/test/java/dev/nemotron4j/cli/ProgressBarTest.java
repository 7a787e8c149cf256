package dev.nemotron4j.cli;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ProgressBarTest {
    private static final long MS = 1_000_000;

    @Test
    void redrawsInPlaceThrottledAndEndsEachItemWithANewline() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        AtomicLong clock = new AtomicLong();
        ProgressBar bar = new ProgressBar(new PrintStream(bytes, true, StandardCharsets.UTF_8), true, clock::get,
                100 * MS);

        bar.update("model.safetensors", 0, 4 << 20);
        clock.set(10 * MS);
        bar.update("model.safetensors", 1 << 20, 4 << 20); // throttled
        clock.set(1000 * MS);
        bar.update("model.safetensors", 2 << 20, 4 << 20);
        clock.set(1001 * MS);
        bar.update("model.safetensors", 4 << 20, 4 << 20); // completion is always drawn
        bar.update("config.json", 698, 698);

        String out = bytes.toString(StandardCharsets.UTF_8);
        String[] lines = out.split("\n");
        assertEquals(2, lines.length, out);
        assertEquals(3, lines[0].chars().filter(c -> c == '\r').count(), out);
        assertTrue(lines[0].contains(" 50% [###############               ] 2.0 MiB / 4.0 MiB  2.0 MiB/s"), out);
        assertTrue(lines[0].contains("100% [##############################] 4.0 MiB / 4.0 MiB"), out);
        assertTrue(lines[1].startsWith("\rconfig.json") && lines[1].contains("100%"), out);
    }

    @Test
    void withoutATerminalOnlyFinishedLinesArePrinted() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        AtomicLong clock = new AtomicLong();
        ProgressBar bar = new ProgressBar(new PrintStream(bytes, true, StandardCharsets.UTF_8), false, clock::get,
                100 * MS);
        for (int i = 0; i <= 8; i++) {
            clock.set(i * 1000 * MS);
            bar.update("synth model.gguf", i << 20, 8 << 20);
        }
        String out = bytes.toString(StandardCharsets.UTF_8);
        assertFalse(out.contains("\r"), out);
        assertEquals(1, out.split("\n").length, out);
        assertTrue(out.contains("100% [##############################] 8.0 MiB / 8.0 MiB"), out);
    }

    @Test
    void humanSizes() {
        assertEquals("512 B", ProgressBar.size(512));
        assertEquals("1.5 KiB", ProgressBar.size(1536));
        assertEquals("4.7 GiB", ProgressBar.size(5_000_000_000L));
    }
}
