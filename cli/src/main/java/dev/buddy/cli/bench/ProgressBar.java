package dev.buddy.cli.bench;

import java.io.PrintStream;
import java.util.Locale;
import java.util.function.LongSupplier;

import dev.buddy.engine.synth.SynthesisProgress;

/**
 * A one-line progress bar with throughput and ETA, redrawn in place on stderr ({@code \r}) at most every
 * {@link #REDRAW_NANOS}, and finished with a newline. Quiet below {@link #MIN_BYTES}: small files are written before
 * a bar would be worth reading, and scripts get a clean stderr.
 */
final class ProgressBar implements SynthesisProgress {
    static final long MIN_BYTES = 64L << 20;
    static final long REDRAW_NANOS = 250_000_000L;
    private static final int WIDTH = 30;
    private static final double GIB = 1024.0 * 1024 * 1024;
    private static final double MIB = 1024.0 * 1024;

    private final PrintStream err;
    private final String label;
    private final LongSupplier nanoTime;
    private final long startNanos;
    private long lastDrawNanos = Long.MIN_VALUE;
    private boolean drawn;

    ProgressBar(PrintStream err, String label, LongSupplier nanoTime) {
        this.err = err;
        this.label = label;
        this.nanoTime = nanoTime;
        this.startNanos = nanoTime.getAsLong();
    }

    @Override
    public void advanced(long bytesDone, long bytesTotal) {
        if (bytesTotal < MIN_BYTES) {
            return;
        }
        long now = nanoTime.getAsLong();
        boolean finished = bytesDone >= bytesTotal;
        if (!finished && drawn && now - lastDrawNanos < REDRAW_NANOS) {
            return;
        }
        lastDrawNanos = now;
        drawn = true;
        err.print("\r" + line(bytesDone, bytesTotal, now - startNanos));
        if (finished) {
            err.println();
        }
        err.flush();
    }

    /** "label  42% [############..................] 1.02/2.47 GiB  85.3 MiB/s  ETA 0:17". */
    String line(long done, long total, long elapsedNanos) {
        double fraction = total == 0 ? 1 : (double) done / total;
        int filled = (int) Math.round(fraction * WIDTH);
        double seconds = elapsedNanos / 1e9;
        double rate = seconds > 0 ? done / seconds : 0;
        String eta = rate > 0 ? clock((total - done) / rate) : "?";
        return String.format(Locale.ROOT, "%s %3d%% [%s%s] %.2f/%.2f GiB %6.1f MiB/s  ETA %s ", label,
                (int) Math.floor(fraction * 100), "#".repeat(filled), ".".repeat(WIDTH - filled), done / GIB,
                total / GIB, rate / MIB, eta);
    }

    /** Seconds as m:ss, or h:mm:ss from an hour on. */
    static String clock(double seconds) {
        long s = Math.round(seconds);
        return s >= 3600 ? String.format(Locale.ROOT, "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60)
                : String.format(Locale.ROOT, "%d:%02d", s / 60, s % 60);
    }
}
