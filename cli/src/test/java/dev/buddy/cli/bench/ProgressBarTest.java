package dev.buddy.cli.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicLong;

import org.junit.jupiter.api.Test;

/** The progress bar on a fake clock: silent for small files, throttled, with rate and ETA. */
class ProgressBarTest {
    private static final long GIB = 1L << 30;

    @Test
    void showsFractionRateAndEtaThenEndsTheLine() {
        AtomicLong now = new AtomicLong(0);
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        ProgressBar bar = new ProgressBar(new PrintStream(bytes, true, StandardCharsets.UTF_8), "synth", now::get);

        now.set(2_000_000_000L); // 1 GiB of 4 in 2 s: 512 MiB/s, 3 GiB left: 6 s
        bar.advanced(GIB, 4 * GIB);
        now.set(2_100_000_000L); // too soon to redraw
        bar.advanced(GIB + 1, 4 * GIB);
        now.set(8_000_000_000L);
        bar.advanced(4 * GIB, 4 * GIB);

        String[] frames = bytes.toString(StandardCharsets.UTF_8).split("\r", -1);
        assertEquals(3, frames.length, "one empty lead and two frames: " + frames.length);
        assertTrue(frames[1].startsWith(
                "synth  25% [########......................] 1.00/4.00 GiB  512.0 MiB/s  ETA 0:06"), frames[1]);
        assertTrue(frames[2].startsWith(
                "synth 100% [##############################] 4.00/4.00 GiB  512.0 MiB/s  ETA 0:00"), frames[2]);
        assertTrue(frames[2].endsWith("\n"));
    }

    @Test
    void smallFilesPrintNothing() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        ProgressBar bar = new ProgressBar(new PrintStream(bytes, true, StandardCharsets.UTF_8), "synth", () -> 0L);
        bar.advanced(1 << 20, ProgressBar.MIN_BYTES - 1);
        bar.advanced(ProgressBar.MIN_BYTES - 1, ProgressBar.MIN_BYTES - 1);
        assertEquals("", bytes.toString(StandardCharsets.UTF_8));
    }

    @Test
    void clockSwitchesToHours() {
        assertEquals("0:59", ProgressBar.clock(59.4));
        assertEquals("1:00:01", ProgressBar.clock(3601));
    }
}
