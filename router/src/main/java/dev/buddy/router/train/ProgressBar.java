package dev.buddy.router.train;

import java.io.PrintStream;
import java.util.Locale;

/**
 * A one-line training progress display on stderr: bar, step, loss (this step and a running average), tokens per
 * second and ETA, redrawn in place with a carriage return at most a few times a second, and finished with a newline.
 * Tokens per second and ETA count only the steps of this process, so a resumed run does not claim the earlier steps'
 * speed.
 */
final class ProgressBar {
    private static final int WIDTH = 24;
    private static final long REDRAW_NANOS = 200_000_000L;

    private final PrintStream out;
    private final int totalSteps;
    private final int firstStep;
    private final long startNanos;
    private long lastDraw;
    private long tokens;
    private double average = Double.NaN;

    ProgressBar(PrintStream out, int firstStep, int totalSteps) {
        this.out = out;
        this.totalSteps = totalSteps;
        this.firstStep = firstStep;
        this.startNanos = System.nanoTime();
    }

    /** Records a finished step (0-based) and redraws if enough time has passed or the run is done. */
    void update(int step, double loss, long stepTokens) {
        update(step, loss, stepTokens, "");
    }

    /** As {@link #update(int, double, long)}, with {@code extra} (e.g. the reward) shown after the loss. */
    void update(int step, double loss, long stepTokens, String extra) {
        tokens += stepTokens;
        // Exponential moving average over roughly the last 20 steps.
        average = Double.isNaN(average) ? loss : 0.95 * average + 0.05 * loss;
        long now = System.nanoTime();
        boolean last = step + 1 >= totalSteps;
        if (out == null || (!last && now - lastDraw < REDRAW_NANOS)) {
            return;
        }
        lastDraw = now;
        out.print('\r' + line(step, loss, extra, now));
        if (last) {
            out.println();
        }
        out.flush();
    }

    private String line(int step, double loss, String extra, long now) {
        int done = step + 1;
        int filled = (int) ((long) WIDTH * done / totalSteps);
        double seconds = (now - startNanos) / 1e9;
        double tokensPerSecond = seconds > 0 ? tokens / seconds : 0;
        int stepsHere = done - firstStep;
        double eta = stepsHere > 0 ? seconds / stepsHere * (totalSteps - done) : 0;
        return String.format(Locale.ROOT, "[%s%s] %d/%d loss %.4f (avg %.4f)%s %,.0f tok/s ETA %s ",
                "#".repeat(filled), "-".repeat(WIDTH - filled), done, totalSteps, loss, average,
                extra.isEmpty() ? "" : " " + extra, tokensPerSecond, duration(eta));
    }

    static String duration(double seconds) {
        long s = Math.round(seconds);
        return s >= 3600 ? String.format(Locale.ROOT, "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60)
                : String.format(Locale.ROOT, "%d:%02d", s / 60, s % 60);
    }

    /** Tokens per second over this process's steps so far. */
    double tokensPerSecond() {
        double seconds = (System.nanoTime() - startNanos) / 1e9;
        return seconds > 0 ? tokens / seconds : 0;
    }
}
