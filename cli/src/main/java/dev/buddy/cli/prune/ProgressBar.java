package dev.buddy.cli.prune;

import java.io.PrintStream;
import java.util.Locale;
import java.util.function.LongSupplier;

import dev.buddy.router.baseline.Progress;

/**
 * A one-line progress bar with an ETA on stderr, redrawn in place with {@code \r}; at most every 200 ms so a fast
 * search does not flood a log, and always for the final step. Each measurement phase (e.g. prior-only's ΔPPL sweep)
 * restarts the bar when its total changes.
 */
final class ProgressBar implements Progress {
    private static final int WIDTH = 30;
    private static final long REDRAW_NANOS = 200_000_000L;

    private final PrintStream err;
    private final String label;
    private final LongSupplier clock;
    private long phaseStart;
    private long lastDraw;
    private long lastEvent;
    private int phaseTotal = -1;
    private boolean drawn;

    ProgressBar(PrintStream err, String label, LongSupplier clock) {
        this.err = err;
        this.label = label;
        this.clock = clock;
    }

    /** Call before the first pass so the first pass's time counts toward the ETA. */
    void start() {
        phaseStart = clock.getAsLong();
        lastEvent = phaseStart;
        lastDraw = phaseStart - REDRAW_NANOS;
    }

    @Override
    public void passDone(int done, int total) {
        long now = clock.getAsLong();
        if (total != phaseTotal) {
            if (phaseTotal >= 0) {
                phaseStart = lastEvent; // a new phase began when the previous one's last pass ended
            }
            phaseTotal = total;
        }
        lastEvent = now;
        if (done < total && now - lastDraw < REDRAW_NANOS) {
            return;
        }
        lastDraw = now;
        err.print('\r' + line(done, total, now - phaseStart));
        drawn = true;
        if (done == total) {
            err.println();
            drawn = false;
        }
        err.flush();
    }

    /** Ends a partially drawn line (e.g. before an error message). */
    void finish() {
        if (drawn) {
            err.println();
            drawn = false;
        }
    }

    String line(int done, int total, long elapsedNanos) {
        int filled = total == 0 ? WIDTH : (int) ((long) WIDTH * done / total);
        String eta;
        if (done >= total) {
            eta = "done in " + duration(elapsedNanos);
        } else if (done == 0) {
            eta = "ETA --";
        } else {
            eta = "ETA " + duration(elapsedNanos / done * (total - done));
        }
        return String.format(Locale.ROOT, "%s [%s%s] %d/%d passes %3d%% %s", label, "#".repeat(filled),
                ".".repeat(WIDTH - filled), done, total, total == 0 ? 100 : 100 * done / total, eta);
    }

    static String duration(long nanos) {
        long s = Math.round(nanos / 1e9);
        return s >= 60 ? (s / 60) + "m" + String.format(Locale.ROOT, "%02d", s % 60) + "s" : s + "s";
    }
}
