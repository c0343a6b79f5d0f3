package dev.buddy.router.eval;

import java.io.PrintStream;
import java.util.Locale;
import java.util.Objects;
import java.util.function.LongSupplier;

/**
 * A one-line progress bar with rate and ETA, redrawn in place with a carriage return (for stderr). Redraws at most
 * every {@link #REDRAW_NANOS} so a fast loop does not flood the terminal; {@link #close()} draws the final state and
 * ends the line.
 *
 * <pre>arc_easy buddy@0.75 [##########----------]  1188/2376  50.0%  3.1/s  ETA 6m23s</pre>
 */
public final class ProgressBar implements ProgressListener, AutoCloseable {
    static final long REDRAW_NANOS = 250_000_000L;
    private static final int WIDTH = 24;

    private final String label;
    private final long total;
    private final PrintStream out;
    private final LongSupplier clock;
    private final long startNanos;
    private long done;
    private long lastDraw = Long.MIN_VALUE;
    private int lastLength;
    private boolean closed;

    /**
     * @param total units of work; the bar is full when that many were advanced
     * @param clock a nanosecond clock ({@code System::nanoTime})
     */
    public ProgressBar(String label, long total, PrintStream out, LongSupplier clock) {
        if (total < 1) {
            throw new IllegalArgumentException("progress total must be positive, got " + total);
        }
        this.label = Objects.requireNonNull(label);
        this.total = total;
        this.out = Objects.requireNonNull(out);
        this.clock = Objects.requireNonNull(clock);
        this.startNanos = clock.getAsLong();
    }

    public ProgressBar(String label, long total, PrintStream out) {
        this(label, total, out, System::nanoTime);
    }

    @Override
    public void advance(long units) {
        done = Math.min(total, done + units);
        long now = clock.getAsLong();
        if (lastDraw == Long.MIN_VALUE || now - lastDraw >= REDRAW_NANOS || done == total) {
            draw(now);
        }
    }

    public long done() {
        return done;
    }

    /** The line as it would be drawn at clock time {@code now}. */
    String line(long now) {
        double elapsed = (now - startNanos) / 1e9;
        int filled = (int) (WIDTH * done / total);
        StringBuilder sb = new StringBuilder(96);
        sb.append(label).append(" [");
        sb.repeat('#', filled).repeat('-', WIDTH - filled).append("] ");
        String totalText = Long.toString(total);
        sb.repeat(' ', totalText.length() - Long.toString(done).length()).append(done).append('/').append(totalText);
        sb.append(String.format(Locale.ROOT, " %5.1f%%", 100.0 * done / total));
        if (done > 0 && elapsed > 0) {
            double rate = done / elapsed;
            sb.append(String.format(Locale.ROOT, "  %.1f/s", rate));
            if (done < total) {
                sb.append("  ETA ").append(duration((total - done) / rate));
            } else {
                sb.append("  in ").append(duration(elapsed));
            }
        }
        return sb.toString();
    }

    private void draw(long now) {
        String line = line(now);
        // Pad over what the previous, possibly longer, line left on screen.
        int pad = Math.max(0, lastLength - line.length());
        out.print("\r" + line + " ".repeat(pad));
        out.flush();
        lastLength = line.length();
        lastDraw = now;
    }

    /** Draws the final state and ends the line. */
    @Override
    public void close() {
        if (!closed) {
            closed = true;
            draw(clock.getAsLong());
            out.println();
        }
    }

    /** {@code 42s}, {@code 6m23s} or {@code 2h05m}: coarse enough to stay steady while it counts down. */
    static String duration(double seconds) {
        long s = Math.round(seconds);
        if (s < 60) {
            return s + "s";
        }
        if (s < 3600) {
            return (s / 60) + "m" + String.format(Locale.ROOT, "%02d", s % 60) + "s";
        }
        return (s / 3600) + "h" + String.format(Locale.ROOT, "%02d", (s % 3600) / 60) + "m";
    }
}
