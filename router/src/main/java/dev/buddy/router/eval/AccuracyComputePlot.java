package dev.buddy.router.eval;

import dev.buddy.gguf.AtomicFiles;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.geom.Ellipse2D;
import java.awt.geom.Line2D;
import java.awt.geom.Path2D;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Locale;
import java.util.Objects;
import javax.imageio.ImageIO;

/**
 * The accuracy–compute plot: mean accuracy (%) against the fraction of transformer blocks executed, one polyline with
 * markers per method; the dense model's single point also gets a dashed horizontal reference line. Written as hand-made SVG and, with the JDK's headless java.awt, as PNG; both come from the same
 * {@link PlotGeometry}.
 */
public final class AccuracyComputePlot {
    public static final int DEFAULT_WIDTH = 860;
    public static final int DEFAULT_HEIGHT = 520;

    /** One point: executed fraction and mean accuracy in percent. */
    public record Point(double fraction, double accuracy) {}

    /** One method's points; they are drawn in order of fraction. */
    public record Series(String name, List<Point> points) {
        public Series {
            Objects.requireNonNull(name, "name");
            points = points.stream().filter(p -> Double.isFinite(p.fraction()) && Double.isFinite(p.accuracy()))
                    .sorted(Comparator.comparingDouble(Point::fraction)).toList();
        }
    }

    private final String title;
    private final List<Series> series;
    private final PlotGeometry geometry;

    public AccuracyComputePlot(String title, List<Series> series, int width, int height) {
        this.title = Objects.requireNonNull(title, "title");
        this.series = series.stream().filter(s -> !s.points().isEmpty()).toList();
        double xMin = 1;
        double xMax = 1;
        double yMin = Double.POSITIVE_INFINITY;
        double yMax = Double.NEGATIVE_INFINITY;
        for (Series s : this.series) {
            for (Point p : s.points()) {
                xMin = Math.min(xMin, p.fraction());
                xMax = Math.max(xMax, p.fraction());
                yMin = Math.min(yMin, p.accuracy());
                yMax = Math.max(yMax, p.accuracy());
            }
        }
        if (yMin > yMax) {
            yMin = 0;
            yMax = 100;
        }
        // A long method name widens the legend and the picture with it; the plot area keeps its size.
        int legend = PlotGeometry.legendWidth(this.series.stream().mapToInt(s -> s.name().length()).max().orElse(0));
        this.geometry = new PlotGeometry(width + legend - PlotGeometry.LEGEND_WIDTH, height, xMin, xMax, yMin, yMax,
                legend);
    }

    public AccuracyComputePlot(String title, List<Series> series) {
        this(title, series, DEFAULT_WIDTH, DEFAULT_HEIGHT);
    }

    public int width() {
        return geometry.width;
    }

    public int height() {
        return geometry.height;
    }

    /** The known methods' fixed colours, so every report draws a method the same way. */
    private static final Map<String, Color> KNOWN = Map.of("dense", new Color(0x222222), "buddy", new Color(0xD62728),
            "shortgpt", new Color(0x1F77B4), "ppl", new Color(0x2CA02C), "sleb", new Color(0xFF7F0E),
            "prior", new Color(0x9467BD));
    /** Other methods' colours in order of appearance, most distinct from the known ones first. */
    private static final int[] EXTRA = {0xE377C2, 0x17BECF, 0x8C564B, 0xBCBD22, 0x7F7F7F, 0x393B79, 0x843C39, 0x7B4173,
            0x637939, 0x8C6D31, 0x3182BD, 0x31A354};

    /**
     * Series i's colour: a known method's own, else the next of {@link #EXTRA} by how many other methods come before
     * it, so a merged report of every variant (LoRA, reuse, priors) keeps twelve more lines apart.
     */
    static Color color(List<Series> series, int i) {
        Color known = KNOWN.get(series.get(i).name());
        if (known != null) {
            return known;
        }
        int ordinal = 0;
        for (int j = 0; j < i; j++) {
            if (!KNOWN.containsKey(series.get(j).name())) {
                ordinal++;
            }
        }
        return new Color(EXTRA[ordinal % EXTRA.length]);
    }

    /** The dense model is one point; a dashed line at its accuracy is the reference the other methods approach. */
    private static boolean isReference(Series s) {
        return s.name().equals("dense") && s.points().size() == 1;
    }

    private static String hex(Color c) {
        return String.format(Locale.ROOT, "#%02x%02x%02x", c.getRed(), c.getGreen(), c.getBlue());
    }

    private static String num(double v) {
        return String.format(Locale.ROOT, "%.2f", v);
    }

    private static String escape(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }

    // ---- SVG -------------------------------------------------------------------------------------------------

    public String svg() {
        PlotGeometry g = geometry;
        StringBuilder sb = new StringBuilder(8192);
        sb.append("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        sb.append("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"").append(g.width).append("\" height=\"")
                .append(g.height).append("\" viewBox=\"0 0 ").append(g.width).append(' ').append(g.height)
                .append("\" font-family=\"sans-serif\" font-size=\"12\">\n");
        sb.append("  <rect x=\"0\" y=\"0\" width=\"").append(g.width).append("\" height=\"").append(g.height)
                .append("\" fill=\"#ffffff\"/>\n");
        sb.append("  <text x=\"").append(num(g.width / 2.0)).append("\" y=\"24\" text-anchor=\"middle\" font-size=\"15\""
                + " font-weight=\"bold\">").append(escape(title)).append("</text>\n");

        sb.append("  <g id=\"grid\" stroke=\"#e5e5e5\" stroke-width=\"1\">\n");
        for (double t : g.x.ticks()) {
            sb.append("    <line x1=\"").append(num(g.px(t))).append("\" y1=\"").append(num(g.plotTop()))
                    .append("\" x2=\"").append(num(g.px(t))).append("\" y2=\"").append(num(g.plotBottom()))
                    .append("\"/>\n");
        }
        for (double t : g.y.ticks()) {
            sb.append("    <line x1=\"").append(num(g.plotLeft())).append("\" y1=\"").append(num(g.py(t)))
                    .append("\" x2=\"").append(num(g.plotRight())).append("\" y2=\"").append(num(g.py(t)))
                    .append("\"/>\n");
        }
        sb.append("  </g>\n");

        sb.append("  <g id=\"axes\" stroke=\"#000000\" stroke-width=\"1\">\n");
        sb.append("    <line x1=\"").append(num(g.plotLeft())).append("\" y1=\"").append(num(g.plotBottom()))
                .append("\" x2=\"").append(num(g.plotRight())).append("\" y2=\"").append(num(g.plotBottom()))
                .append("\"/>\n");
        sb.append("    <line x1=\"").append(num(g.plotLeft())).append("\" y1=\"").append(num(g.plotTop()))
                .append("\" x2=\"").append(num(g.plotLeft())).append("\" y2=\"").append(num(g.plotBottom()))
                .append("\"/>\n");
        for (double t : g.x.ticks()) {
            sb.append("    <line x1=\"").append(num(g.px(t))).append("\" y1=\"").append(num(g.plotBottom()))
                    .append("\" x2=\"").append(num(g.px(t))).append("\" y2=\"").append(num(g.plotBottom() + 5))
                    .append("\"/>\n");
        }
        for (double t : g.y.ticks()) {
            sb.append("    <line x1=\"").append(num(g.plotLeft() - 5)).append("\" y1=\"").append(num(g.py(t)))
                    .append("\" x2=\"").append(num(g.plotLeft())).append("\" y2=\"").append(num(g.py(t)))
                    .append("\"/>\n");
        }
        sb.append("  </g>\n");

        sb.append("  <g id=\"tick-labels\" fill=\"#000000\">\n");
        for (double t : g.x.ticks()) {
            sb.append("    <text x=\"").append(num(g.px(t))).append("\" y=\"").append(num(g.plotBottom() + 19))
                    .append("\" text-anchor=\"middle\">").append(g.x.label(t)).append("</text>\n");
        }
        for (double t : g.y.ticks()) {
            sb.append("    <text x=\"").append(num(g.plotLeft() - 8)).append("\" y=\"").append(num(g.py(t) + 4))
                    .append("\" text-anchor=\"end\">").append(g.y.label(t)).append("</text>\n");
        }
        sb.append("  </g>\n");
        sb.append("  <text x=\"").append(num((g.plotLeft() + g.plotRight()) / 2)).append("\" y=\"")
                .append(num(g.height - 14.0)).append("\" text-anchor=\"middle\">Fraction of blocks executed</text>\n");
        double yMid = (g.plotTop() + g.plotBottom()) / 2;
        sb.append("  <text x=\"18\" y=\"").append(num(yMid)).append("\" text-anchor=\"middle\" transform=\"rotate(-90 18 ")
                .append(num(yMid)).append(")\">Mean accuracy (%)</text>\n");

        for (int i = 0; i < series.size(); i++) {
            Series s = series.get(i);
            String color = hex(color(series, i));
            sb.append("  <g class=\"series\" data-method=\"").append(escape(s.name())).append("\">\n");
            if (isReference(s)) {
                double y = g.py(s.points().getFirst().accuracy());
                sb.append("    <line class=\"reference\" x1=\"").append(num(g.plotLeft())).append("\" y1=\"")
                        .append(num(y)).append("\" x2=\"").append(num(g.plotRight())).append("\" y2=\"").append(num(y))
                        .append("\" stroke=\"").append(color).append("\" stroke-width=\"1\" stroke-dasharray=\"5,4\"/>\n");
            }
            if (s.points().size() > 1) {
                sb.append("    <polyline fill=\"none\" stroke=\"").append(color).append("\" stroke-width=\"2\" points=\"");
                for (int p = 0; p < s.points().size(); p++) {
                    Point pt = s.points().get(p);
                    sb.append(p == 0 ? "" : " ").append(num(g.px(pt.fraction()))).append(',')
                            .append(num(g.py(pt.accuracy())));
                }
                sb.append("\"/>\n");
            }
            for (Point pt : s.points()) {
                sb.append("    <circle cx=\"").append(num(g.px(pt.fraction()))).append("\" cy=\"")
                        .append(num(g.py(pt.accuracy()))).append("\" r=\"3.5\" fill=\"").append(color)
                        .append("\"/>\n");
            }
            sb.append("  </g>\n");
        }

        sb.append("  <g id=\"legend\">\n");
        for (int i = 0; i < series.size(); i++) {
            Series s = series.get(i);
            String color = hex(color(series, i));
            double ly = g.plotTop() + 10 + 20 * i;
            double lx = g.legendLeft();
            sb.append("    <line x1=\"").append(num(lx)).append("\" y1=\"").append(num(ly)).append("\" x2=\"")
                    .append(num(lx + 22)).append("\" y2=\"").append(num(ly)).append("\" stroke=\"").append(color)
                    .append("\" stroke-width=\"2\"/>\n");
            sb.append("    <circle cx=\"").append(num(lx + 11)).append("\" cy=\"").append(num(ly))
                    .append("\" r=\"3.5\" fill=\"").append(color).append("\"/>\n");
            sb.append("    <text x=\"").append(num(lx + 30)).append("\" y=\"").append(num(ly + 4)).append("\">")
                    .append(escape(s.name())).append("</text>\n");
        }
        sb.append("  </g>\n");
        sb.append("</svg>\n");
        return sb.toString();
    }

    public void writeSvg(Path file) throws IOException {
        AtomicFiles.writeString(file, svg());
    }

    // ---- PNG -------------------------------------------------------------------------------------------------

    /**
     * Renders the plot into an image. Nothing here needs a display, so headless mode is switched on when nobody has
     * chosen otherwise (it must be set before AWT first initialises).
     */
    public BufferedImage image() {
        if (System.getProperty("java.awt.headless") == null) {
            System.setProperty("java.awt.headless", "true");
        }
        PlotGeometry g = geometry;
        BufferedImage image = new BufferedImage(g.width, g.height, BufferedImage.TYPE_INT_RGB);
        Graphics2D gr = image.createGraphics();
        try {
            gr.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
            gr.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
            gr.setColor(Color.WHITE);
            gr.fillRect(0, 0, g.width, g.height);

            gr.setColor(new Color(0xE5E5E5));
            gr.setStroke(new BasicStroke(1f));
            for (double t : g.x.ticks()) {
                gr.draw(new Line2D.Double(g.px(t), g.plotTop(), g.px(t), g.plotBottom()));
            }
            for (double t : g.y.ticks()) {
                gr.draw(new Line2D.Double(g.plotLeft(), g.py(t), g.plotRight(), g.py(t)));
            }

            gr.setColor(Color.BLACK);
            gr.draw(new Line2D.Double(g.plotLeft(), g.plotBottom(), g.plotRight(), g.plotBottom()));
            gr.draw(new Line2D.Double(g.plotLeft(), g.plotTop(), g.plotLeft(), g.plotBottom()));
            Font font = new Font(Font.SANS_SERIF, Font.PLAIN, 12);
            gr.setFont(font);
            FontMetrics fm = gr.getFontMetrics();
            for (double t : g.x.ticks()) {
                gr.draw(new Line2D.Double(g.px(t), g.plotBottom(), g.px(t), g.plotBottom() + 5));
                String label = g.x.label(t);
                gr.drawString(label, (float) (g.px(t) - fm.stringWidth(label) / 2.0), (float) (g.plotBottom() + 19));
            }
            for (double t : g.y.ticks()) {
                gr.draw(new Line2D.Double(g.plotLeft() - 5, g.py(t), g.plotLeft(), g.py(t)));
                String label = g.y.label(t);
                gr.drawString(label, (float) (g.plotLeft() - 8 - fm.stringWidth(label)), (float) (g.py(t) + 4));
            }
            String xTitle = "Fraction of blocks executed";
            gr.drawString(xTitle, (float) ((g.plotLeft() + g.plotRight()) / 2 - fm.stringWidth(xTitle) / 2.0),
                    (float) (g.height - 14.0));
            String yTitle = "Mean accuracy (%)";
            Graphics2D rotated = (Graphics2D) gr.create();
            try {
                double yMid = (g.plotTop() + g.plotBottom()) / 2;
                rotated.rotate(-Math.PI / 2, 18, yMid);
                rotated.drawString(yTitle, (float) (18 - fm.stringWidth(yTitle) / 2.0), (float) (yMid + 4));
            } finally {
                rotated.dispose();
            }
            Font titleFont = new Font(Font.SANS_SERIF, Font.BOLD, 15);
            gr.setFont(titleFont);
            FontMetrics tfm = gr.getFontMetrics();
            gr.drawString(title, (float) (g.width / 2.0 - tfm.stringWidth(title) / 2.0), 24f);
            gr.setFont(font);

            for (int i = 0; i < series.size(); i++) {
                Series s = series.get(i);
                gr.setColor(color(series, i));
                if (isReference(s)) {
                    double y = g.py(s.points().getFirst().accuracy());
                    gr.setStroke(new BasicStroke(1f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10f,
                            new float[] {5f, 4f}, 0f));
                    gr.draw(new Line2D.Double(g.plotLeft(), y, g.plotRight(), y));
                }
                gr.setStroke(new BasicStroke(2f));
                if (s.points().size() > 1) {
                    Path2D.Double line = new Path2D.Double();
                    for (int p = 0; p < s.points().size(); p++) {
                        Point pt = s.points().get(p);
                        if (p == 0) {
                            line.moveTo(g.px(pt.fraction()), g.py(pt.accuracy()));
                        } else {
                            line.lineTo(g.px(pt.fraction()), g.py(pt.accuracy()));
                        }
                    }
                    gr.draw(line);
                }
                for (Point pt : s.points()) {
                    gr.fill(new Ellipse2D.Double(g.px(pt.fraction()) - 3.5, g.py(pt.accuracy()) - 3.5, 7, 7));
                }
                double ly = g.plotTop() + 10 + 20 * i;
                double lx = g.legendLeft();
                gr.draw(new Line2D.Double(lx, ly, lx + 22, ly));
                gr.fill(new Ellipse2D.Double(lx + 11 - 3.5, ly - 3.5, 7, 7));
                gr.setColor(Color.BLACK);
                gr.drawString(s.name(), (float) (lx + 30), (float) (ly + 4));
            }
        } finally {
            gr.dispose();
        }
        return image;
    }

    /**
     * Writes the PNG.
     *
     * @throws IOException if the file cannot be written, or no PNG writer is available
     */
    public void writePng(Path file) throws IOException {
        BufferedImage image = image();
        AtomicFiles.write(file, out -> {
            if (!ImageIO.write(image, "png", out)) {
                throw new IOException("no PNG image writer is available in this JDK");
            }
        });
    }
}
