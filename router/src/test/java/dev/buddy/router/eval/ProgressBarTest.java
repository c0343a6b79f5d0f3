package dev.buddy.router.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

import org.junit.jupiter.api.Test;

class ProgressBarTest {

    @Test
    void showsRateAndEtaFromTheElapsedTime() {
        long[] now = {1_000_000_000L};
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8);
        ProgressBar bar = new ProgressBar("piqa dense", 200, out, () -> now[0]);
        now[0] += 10_000_000_000L; // 10 s for 50 of 200 items: 5/s, 150 left → 30 s
        bar.advance(50);
        String line = bar.line(now[0]);
        assertTrue(line.startsWith("piqa dense [######------------------]  50/200  25.0%"), line);
        assertTrue(line.endsWith("5.0/s  ETA 30s"), line);
        now[0] += 30_000_000_000L;
        bar.advance(150);
        bar.close();
        String printed = bytes.toString(StandardCharsets.UTF_8);
        assertTrue(printed.startsWith("\r"), "redrawn in place");
        assertTrue(printed.endsWith("200/200 100.0%  5.0/s  in 40s\n"), printed);
    }

    @Test
    void redrawsAreThrottled() {
        long[] now = {0};
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        ProgressBar bar = new ProgressBar("x", 1000, new PrintStream(bytes, true, StandardCharsets.UTF_8),
                () -> now[0]);
        for (int i = 0; i < 999; i++) {
            now[0] += 1_000_000L; // 1 ms per item: 999 ms in all
            bar.advance(1);
        }
        long draws = bytes.toString(StandardCharsets.UTF_8).chars().filter(c -> c == '\r').count();
        // The first item draws, then at most one redraw per 250 ms.
        assertTrue(draws >= 4 && draws <= 5, "drew " + draws + " times");
    }

    @Test
    void durationsAreCompact() {
        assertEquals("0s", ProgressBar.duration(0.2));
        assertEquals("59s", ProgressBar.duration(59));
        assertEquals("6m23s", ProgressBar.duration(383));
        assertEquals("2h05m", ProgressBar.duration(2 * 3600 + 5 * 60 + 9));
    }
}
