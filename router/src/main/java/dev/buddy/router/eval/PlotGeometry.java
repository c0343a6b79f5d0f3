package dev.buddy.router.eval;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Layout shared by the SVG and PNG renderings of the accuracy–compute plot: the plot area inside the margins, "nice"
 * axis ranges and ticks, and the data-to-pixel mapping (y grows downwards in both formats).
 */
final class PlotGeometry {
    static final int MARGIN_LEFT = 72;
    static final int MARGIN_TOP = 44;
    static final int MARGIN_BOTTOM = 56;
    static final int LEGEND_WIDTH = 150;
    /** Right margin beside the legend block. */
    static final int LEGEND_PAD = 24;
    /** The legend starts this far right of the plot area. */
    static final int LEGEND_GAP = 16;
    /** Legend text starts this far right of the legend's left edge (after the line and marker sample). */
    static final int LEGEND_TEXT_OFFSET = 30;
    /** A generous width of one character of the 12-pixel sans-serif legend text, in pixels. */
    static final double LEGEND_CHAR_WIDTH = 7.5;

    final int width;
    final int height;
    private final int marginRight;
    final Axis x;
    final Axis y;

    /**
     * An axis range covering {@code [min, max]} in whole steps.
     *
     * @param decimals digits after the point that tick labels need
     */
    record Axis(double min, double max, double step, int decimals) {
        List<Double> ticks() {
            List<Double> ticks = new ArrayList<>();
            long first = Math.round(min / step);
            long last = Math.round(max / step);
            for (long i = first; i <= last; i++) {
                ticks.add(i * step);
            }
            return ticks;
        }

        String label(double value) {
            return String.format(Locale.ROOT, "%." + decimals + "f", value);
        }
    }

    /**
     * The legend block's width for labels of up to {@code longestLabel} characters: {@link #LEGEND_WIDTH}, or more
     * when a long method name would otherwise run off the picture's edge.
     */
    static int legendWidth(int longestLabel) {
        return Math.max(LEGEND_WIDTH,
                (int) Math.ceil(LEGEND_TEXT_OFFSET + LEGEND_CHAR_WIDTH * longestLabel) + LEGEND_GAP - LEGEND_PAD);
    }

    PlotGeometry(int width, int height, double xMin, double xMax, double yMin, double yMax) {
        this(width, height, xMin, xMax, yMin, yMax, LEGEND_WIDTH);
    }

    /** A picture whose legend block is {@code legendWidth} pixels wide ({@link #legendWidth}). */
    PlotGeometry(int width, int height, double xMin, double xMax, double yMin, double yMax, int legendWidth) {
        this.marginRight = LEGEND_PAD + legendWidth;
        if (width < MARGIN_LEFT + marginRight + 50 || height < MARGIN_TOP + MARGIN_BOTTOM + 50) {
            throw new IllegalArgumentException("plot of " + width + "x" + height + " is too small");
        }
        this.width = width;
        this.height = height;
        this.x = nice(xMin, xMax, 6);
        this.y = nice(yMin, yMax, 6);
    }

    double plotLeft() {
        return MARGIN_LEFT;
    }

    double plotRight() {
        return width - marginRight;
    }

    double plotTop() {
        return MARGIN_TOP;
    }

    double plotBottom() {
        return height - MARGIN_BOTTOM;
    }

    /** Inner padding, so markers at the ends of an axis range do not sit on the axis lines. */
    static final double INSET = 12;

    double px(double value) {
        return plotLeft() + INSET + (value - x.min) / (x.max - x.min) * (plotRight() - plotLeft() - 2 * INSET);
    }

    double py(double value) {
        return plotBottom() - INSET - (value - y.min) / (y.max - y.min) * (plotBottom() - plotTop() - 2 * INSET);
    }

    /** Left edge of the legend block. */
    double legendLeft() {
        return plotRight() + LEGEND_GAP;
    }

    /**
     * A range with about {@code targetTicks} ticks at 1, 2, 2.5 or 5 times a power of ten, covering
     * {@code [lo, hi]}; a degenerate range is widened first.
     */
    static Axis nice(double lo, double hi, int targetTicks) {
        if (!Double.isFinite(lo) || !Double.isFinite(hi)) {
            lo = 0;
            hi = 1;
        }
        if (hi < lo) {
            double t = lo;
            lo = hi;
            hi = t;
        }
        if (hi - lo < 1e-9) {
            double pad = Math.max(Math.abs(lo) * 0.05, 0.01);
            lo -= pad;
            hi += pad;
        }
        double raw = (hi - lo) / Math.max(1, targetTicks - 1);
        double magnitude = Math.pow(10, Math.floor(Math.log10(raw)));
        double step = magnitude * 10;
        for (double m : new double[] {1, 2, 2.5, 5, 10}) {
            if (m * magnitude >= raw) {
                step = m * magnitude;
                break;
            }
        }
        double min = Math.floor(lo / step + 1e-9) * step;
        double max = Math.ceil(hi / step - 1e-9) * step;
        // Enough decimals to tell ticks apart: 0.25 needs 2, 0.5 needs 1, 5 needs 0.
        int decimals = 0;
        while (decimals < 6 && Math.abs(step * Math.pow(10, decimals) - Math.rint(step * Math.pow(10, decimals)))
                > 1e-6) {
            decimals++;
        }
        return new Axis(min, max, step, decimals);
    }
}
