package dev.buddy.router.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import javax.imageio.ImageIO;
import javax.xml.XMLConstants;
import javax.xml.parsers.DocumentBuilderFactory;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

class EvalReportTest {

    private static ConfigurationResult config(String method, double fraction, int obqaNorm, int piqaNorm, int boolq,
            double ppl) {
        Map<Task, TaskResult> tasks = new LinkedHashMap<>();
        tasks.put(Task.OPENBOOKQA, new TaskResult(Task.OPENBOOKQA, 500, obqaNorm - 50, obqaNorm));
        tasks.put(Task.PIQA, new TaskResult(Task.PIQA, 1838, piqaNorm - 20, piqaNorm));
        tasks.put(Task.BOOLQ, new TaskResult(Task.BOOLQ, 3270, boolq, -1));
        Map<PerplexityCorpus, PerplexityResult> ppls = Map.of(PerplexityCorpus.WIKITEXT2,
                new PerplexityResult(PerplexityCorpus.WIKITEXT2, 512, 256, 1000, 1000 * Math.log(ppl)));
        return new ConfigurationResult(method, EvalReport.budgetLabel(fraction), fraction, fraction, tasks, ppls);
    }

    private static EvalReport report() {
        List<ConfigurationResult> results = new ArrayList<>();
        results.add(config("shortgpt", 0.75, 180, 1300, 2000, 12.5));
        results.add(config("buddy", 0.875, 215, 1420, 2500, 6.0));
        results.add(config("dense", 1.0, 221, 1454, 2541, 5.47));
        results.add(config("buddy", 0.75, 195, 1345, 2370, 8.25));
        results.add(config("shortgpt", 0.875, 210, 1418, 2575, 7.0));
        Map<String, Object> settings = new LinkedHashMap<>();
        settings.put("limit", "all");
        settings.put("routing", "per-token");
        return new EvalReport("llama-2-7b.Q8_0.gguf", settings, results);
    }

    @Test
    void budgetLabelsAreShortDecimalStrings() {
        assertEquals("1.0", EvalReport.budgetLabel(1.0));
        assertEquals("0.875", EvalReport.budgetLabel(0.875));
        assertEquals("0.5", EvalReport.budgetLabel(0.5));
        assertEquals("0.8571", EvalReport.budgetLabel(24 / 28.0));
        assertEquals("ppl", EvalReport.canonicalMethod("dppl"));
        assertEquals("sleb", EvalReport.canonicalMethod("SLEB"));
    }

    @Test
    void summaryHasTheAgreedShape() {
        EvalReport r = report();
        Map<?, ?> summary = (Map<?, ?>) Json.parse(JsonText.write(r.summary()));
        assertEquals("llama-2-7b.Q8_0.gguf", summary.get("model"));
        Map<?, ?> methods = (Map<?, ?>) summary.get("methods");
        assertEquals(List.of("dense", "buddy", "shortgpt"), List.copyOf(methods.keySet()));
        assertEquals(List.of("0.875", "0.75"), List.copyOf(((Map<?, ?>) methods.get("buddy")).keySet()));
        Map<?, ?> dense = (Map<?, ?>) ((Map<?, ?>) methods.get("dense")).get("1.0");
        // Headline metrics: OBQA acc_norm 221/500, PIQA acc_norm 1454/1838, BoolQ acc 2541/3270.
        double expectedMean = 100 * (221 / 500.0 + 1454 / 1838.0 + 2541 / 3270.0) / 3;
        assertEquals(expectedMean, (Double) dense.get("mean_acc"), 1e-4);
        assertEquals(5.47, (Double) dense.get("wikitext_ppl"), 1e-9);
        assertEquals(1000L, ((Number) dense.get("wikitext_tokens")).longValue());
        assertNull(dense.get("tinystories_ppl"));
        assertTrue(dense.containsKey("tinystories_tokens"));
        assertNull(dense.get("tinystories_tokens"));
        Map<?, ?> tasks = (Map<?, ?>) dense.get("tasks");
        assertEquals(List.of("openbookqa", "piqa", "boolq"), List.copyOf(tasks.keySet()));
        assertEquals(44.2, (Double) tasks.get("openbookqa"), 1e-9);
        Map<?, ?> stderr = (Map<?, ?>) dense.get("tasks_stderr");
        assertEquals(100 * Stats.binomialStderr(221, 500), (Double) stderr.get("openbookqa"), 1e-4);
        Map<?, ?> examples = (Map<?, ?>) dense.get("tasks_examples");
        assertEquals(List.of("openbookqa", "piqa", "boolq"), List.copyOf(examples.keySet()));
        assertEquals(500L, ((Number) examples.get("openbookqa")).longValue());
        assertEquals(3270L, ((Number) examples.get("boolq")).longValue());
    }

    @Test
    void markdownAndCsvListEveryConfiguration() {
        EvalReport r = report();
        String md = r.markdown();
        assertTrue(md.contains("| Method | Budget | Executed | openbookqa (acc_norm) | piqa (acc_norm) | boolq (acc) |"
                + " Mean | wikitext2 PPL |"), md);
        assertTrue(md.contains("| dense | 1.0 | 1.000 | 44.20 ± 2.22 |"), md);
        assertTrue(md.indexOf("| dense |") < md.indexOf("| buddy | 0.875 |"));
        assertTrue(md.indexOf("| buddy | 0.875 |") < md.indexOf("| buddy | 0.75 |"));
        String[] lines = r.csv().split("\n");
        assertEquals("method,budget,executed_fraction,task,metric,value,stderr,n", lines[0]);
        // Per configuration: OBQA acc + acc_norm, PIQA acc + acc_norm, BoolQ acc, mean, wikitext ppl.
        assertEquals(1 + 5 * 7, lines.length);
        assertTrue(r.csv().contains("dense,1.0,1.000000,openbookqa,acc_norm,44.2000,2.2"), r.csv());
        assertTrue(r.csv().contains("dense,1.0,1.000000,wikitext2,ppl,5.470000,,1000"), r.csv());
    }

    @Test
    void pathCountsGetTheirOwnTableAndJsonFieldsWhenKnown() {
        assertFalse(report().markdown().contains("Block paths"), "no path table when no result counted paths");
        ConfigurationResult plain = config("buddy", 0.75, 195, 1345, 2370, 8.25);
        ConfigurationResult counted = new ConfigurationResult(plain.method(), plain.budget(), 0.75, 0.75,
                plain.tasks(), plain.perplexities(), Map.of(), new ConfigurationResult.PathSpread(17, 0.625, 0.25, 0.0625));
        EvalReport r = new EvalReport("m.gguf", Map.of(), List.of(counted));
        assertTrue(r.markdown().contains("| Method | Budget | Paths | Top path | Skipped slots | Read later |\n"
                + "|---|---:|---:|---:|---:|---:|\n| buddy | 0.75 | 17 | 62.50 % | 25.00 % | 6.25 % |"), r.markdown());
        @SuppressWarnings("unchecked")
        Map<String, Object> entry = ((List<Map<String, Object>>) r.json().get("results")).get(0);
        assertEquals(17, entry.get("distinct_paths"));
        assertEquals(0.625, (Double) entry.get("top_path_share"), 0.0);
        assertEquals(0.25, (Double) entry.get("skipped_kv_fraction"), 0.0);
        assertEquals(0.0625, (Double) entry.get("needed_kv_fraction"), 0.0);
    }

    @Test
    void theFirstMethodWithOutcomesAtABudgetIsPairedWithEveryOther() {
        assertFalse(report().markdown().contains("Paired differences"), "no outcomes, no paired table");
        ConfigurationResult plan = new ConfigurationResult("swap", "0.5", 0.5, 0.5,
                Map.of(Task.BOOLQ, new TaskResult(Task.BOOLQ, 4, 1, -1, "0100")), Map.of());
        ConfigurationResult router = new ConfigurationResult("buddy", "0.5", 0.5, 0.5,
                Map.of(Task.BOOLQ, new TaskResult(Task.BOOLQ, 4, 3, -1, "1101")), Map.of());
        EvalReport r = new EvalReport("m.gguf", Map.of(), List.of(plan, router));
        // buddy comes first in a report; d = +1, 0, 0, +1: mean 0.5, sample variance 1/3, error sqrt(1/3 / 4)
        String error = String.format(java.util.Locale.ROOT, "%.2f", 100 * Math.sqrt(1.0 / 3 / 4));
        assertTrue(r.markdown().contains("| 0.5 | buddy | swap | +50.00 | " + error + " | "), r.markdown());
        @SuppressWarnings("unchecked")
        Map<String, Object> pair = ((List<Map<String, Object>>) r.json().get("paired_differences")).getFirst();
        assertEquals("swap", pair.get("reference"));
        assertEquals(50.0, (Double) pair.get("difference"), 1e-9);
        @SuppressWarnings("unchecked")
        Map<String, Object> entry = ((List<Map<String, Object>>) r.json().get("results")).getFirst();
        assertEquals("buddy", entry.get("method"));
        @SuppressWarnings("unchecked")
        Map<String, Object> boolq = (Map<String, Object>) ((Map<String, Object>) entry.get("tasks")).get("boolq");
        assertEquals("1101", boolq.get("outcomes"));
    }

    @Test
    void twoFilesOfOneMethodKeepThatMethodsPlaceInTheOrder() {
        List<ConfigurationResult> results = new ArrayList<>();
        for (String method : List.of("sleb", "buddy:mixed", "shortgpt", "buddy:alpaca", "other")) {
            results.add(new ConfigurationResult(method, "0.5", 0.5, 0.5,
                    Map.of(Task.BOOLQ, new TaskResult(Task.BOOLQ, 2, 1, -1, "10")), Map.of()));
        }
        EvalReport r = new EvalReport("m.gguf", Map.of(), results);
        assertEquals(List.of("buddy:alpaca", "buddy:mixed", "shortgpt", "sleb", "other"),
                r.results().stream().map(ConfigurationResult::method).toList());
        assertTrue(r.markdown().contains("| 0.5 | buddy:alpaca | sleb | +0.00 | 0.00 |"), r.markdown());
    }

    @Test
    void filesAreWrittenAtomicallyAndParse(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve(EvalReport.SUMMARY), "stale");
        EvalReport.Written written = report().writeAll(dir);
        assertNull(written.pngProblem(), written.pngProblem());
        assertEquals(6, written.files().size());
        try (Stream<Path> files = Files.list(dir)) {
            List<String> names = files.map(p -> p.getFileName().toString()).sorted().toList();
            assertEquals(List.of(EvalReport.PLOT_PNG, EvalReport.PLOT_SVG, EvalReport.CSV, EvalReport.JSON,
                    EvalReport.MARKDOWN, EvalReport.SUMMARY), names, "no temporary files are left behind");
        }
        assertTrue(Files.readString(dir.resolve(EvalReport.SUMMARY)).startsWith("{"));
        Map<?, ?> json = (Map<?, ?>) Json.parse(Files.readString(dir.resolve(EvalReport.JSON)));
        assertEquals(5, ((List<?>) json.get("results")).size());

        DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
        f.setFeature(XMLConstants.FEATURE_SECURE_PROCESSING, true);
        f.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
        f.setNamespaceAware(true);
        Document svg = f.newDocumentBuilder().parse(dir.resolve(EvalReport.PLOT_SVG).toFile());
        Element root = svg.getDocumentElement();
        assertEquals("svg", root.getLocalName());
        assertEquals("http://www.w3.org/2000/svg", root.getNamespaceURI());
        assertEquals(String.valueOf(AccuracyComputePlot.DEFAULT_WIDTH), root.getAttribute("width"));
        NodeList polylines = svg.getElementsByTagNameNS("http://www.w3.org/2000/svg", "polyline");
        assertEquals(2, polylines.getLength(), "buddy and shortgpt have two budgets each; dense is one point");
        NodeList circles = svg.getElementsByTagNameNS("http://www.w3.org/2000/svg", "circle");
        assertEquals(5 + 3, circles.getLength(), "one marker per configuration and one per legend entry");
        String text = svg.getDocumentElement().getTextContent();
        assertTrue(text.contains("Fraction of blocks executed") && text.contains("Mean accuracy (%)"));
        assertTrue(text.contains("dense") && text.contains("buddy") && text.contains("shortgpt"));

        BufferedImage png = ImageIO.read(dir.resolve(EvalReport.PLOT_PNG).toFile());
        assertNotNull(png);
        assertEquals(AccuracyComputePlot.DEFAULT_WIDTH, png.getWidth());
        assertEquals(AccuracyComputePlot.DEFAULT_HEIGHT, png.getHeight());
        assertFalse(isBlank(png), "the plot drew something");
    }

    private static boolean isBlank(BufferedImage image) {
        int first = image.getRGB(0, 0);
        for (int y = 0; y < image.getHeight(); y += 3) {
            for (int x = 0; x < image.getWidth(); x += 3) {
                if (image.getRGB(x, y) != first) {
                    return false;
                }
            }
        }
        return true;
    }

    @Test
    void svgPointsFollowTheData() throws IOException {
        AccuracyComputePlot plot = new AccuracyComputePlot("t <&>", List.of(
                new AccuracyComputePlot.Series("buddy", List.of(new AccuracyComputePlot.Point(0.5, 40),
                        new AccuracyComputePlot.Point(1.0, 60)))));
        PlotGeometry g = new PlotGeometry(plot.width(), plot.height(), 0.5, 1.0, 40, 60);
        String svg = plot.svg();
        assertTrue(svg.contains("t &lt;&amp;&gt;"));
        String expected = String.format(java.util.Locale.ROOT, "%.2f,%.2f %.2f,%.2f", g.px(0.5), g.py(40), g.px(1.0),
                g.py(60));
        assertTrue(svg.contains("points=\"" + expected + "\""), svg);
        // Higher accuracy is drawn higher up; more compute further right.
        assertTrue(g.py(60) < g.py(40) && g.px(1.0) > g.px(0.5));
    }

    @Test
    void longMethodNamesWidenThePictureSoTheLegendFits() {
        String longName = "buddy-composed-lora-with-a-much-longer-name";
        List<AccuracyComputePlot.Point> points = List.of(new AccuracyComputePlot.Point(0.5, 40),
                new AccuracyComputePlot.Point(1.0, 60));
        AccuracyComputePlot shortNames = new AccuracyComputePlot("t", List.of(
                new AccuracyComputePlot.Series("buddy", points)));
        AccuracyComputePlot longNames = new AccuracyComputePlot("t", List.of(
                new AccuracyComputePlot.Series("buddy", points), new AccuracyComputePlot.Series(longName, points)));
        assertEquals(AccuracyComputePlot.DEFAULT_WIDTH, shortNames.width());
        BufferedImage image = longNames.image();
        java.awt.Graphics2D gr = image.createGraphics();
        int textWidth = gr.getFontMetrics(new java.awt.Font(java.awt.Font.SANS_SERIF, java.awt.Font.PLAIN, 12))
                .stringWidth(longName);
        gr.dispose();
        int legend = PlotGeometry.legendWidth(longName.length());
        PlotGeometry g = new PlotGeometry(longNames.width(), longNames.height(), 0.5, 1.0, 40, 60, legend);
        assertTrue(image.getWidth() > AccuracyComputePlot.DEFAULT_WIDTH);
        assertTrue(g.legendLeft() + PlotGeometry.LEGEND_TEXT_OFFSET + textWidth <= image.getWidth(),
                "legend text ends at " + (g.legendLeft() + PlotGeometry.LEGEND_TEXT_OFFSET + textWidth) + " of "
                        + image.getWidth());
        // The plot area keeps its default width: the picture grew by the legend alone.
        assertEquals(new PlotGeometry(AccuracyComputePlot.DEFAULT_WIDTH, longNames.height(), 0.5, 1.0, 40, 60)
                .plotRight(), g.plotRight(), 1e-9);
    }

    @Test
    void niceAxesCoverTheDataWithRoundTicks() {
        PlotGeometry.Axis a = PlotGeometry.nice(0.4375, 1.0, 6);
        assertTrue(a.min() <= 0.4375 && a.max() >= 1.0);
        assertEquals(0.2, a.step(), 1e-12, "the range over 5 intervals is 0.1125, rounded up to 2 × 0.1");
        assertEquals(List.of("0.4", "0.6", "0.8", "1.0"), a.ticks().stream().map(a::label).toList());
        PlotGeometry.Axis b = PlotGeometry.nice(44.78, 67.44, 6);
        assertEquals(5.0, b.step(), 1e-12);
        assertEquals(40.0, b.min(), 1e-12);
        assertEquals(70.0, b.max(), 1e-12);
        assertEquals("45", b.label(45));
        PlotGeometry.Axis c = PlotGeometry.nice(1.0, 1.0, 6);
        assertTrue(c.min() < 1.0 && c.max() > 1.0);
    }

    /** A merged report of session 7's twelve methods (six known, six more) draws every line in its own colour. */
    @Test
    void everyMethodOfABigMergedReportHasItsOwnColour() {
        List<String> methods = List.of("dense", "buddy", "shortgpt", "ppl", "sleb", "prior", "buddy-lora",
                "buddy-reuse", "dense-buddy-lora", "dense-sleb256-lora", "sleb256", "sleb256-lora", "a", "b", "c", "d",
                "e", "f");
        List<AccuracyComputePlot.Series> series = methods.stream()
                .map(m -> new AccuracyComputePlot.Series(m, List.of(new AccuracyComputePlot.Point(0.5, 40)))).toList();
        java.util.Set<Integer> colours = new java.util.HashSet<>();
        for (int i = 0; i < series.size(); i++) {
            colours.add(AccuracyComputePlot.color(series, i).getRGB());
        }
        assertEquals(methods.size(), colours.size(), "colours repeat among " + methods);
    }

    private static ConfigurationResult auto(String method, double executed, int obqaNorm, int piqaNorm, int boolq) {
        ConfigurationResult r = config(method, 0.5, obqaNorm, piqaNorm, boolq, 7.0);
        return new ConfigurationResult(method, EvalConfiguration.AUTO, Double.NaN, executed, r.tasks(),
                r.perplexities());
    }

    @Test
    void autoIsComparedWithTheFixedBudgetsAtItsOwnCompute() {
        List<ConfigurationResult> results = new ArrayList<>();
        results.add(config("dense", 1.0, 221, 1454, 2541, 5.47));
        ConfigurationResult b875 = config("buddy", 0.875, 215, 1420, 2500, 6.0);
        ConfigurationResult b75 = config("buddy", 0.75, 195, 1345, 2370, 8.25);
        results.add(b875);
        results.add(b75);
        results.add(config("shortgpt", 0.8, 100, 1000, 1000, 9.0)); // another method: not on buddy's curve
        results.add(auto("buddy", 0.8, 210, 1400, 2450));
        EvalReport report = new EvalReport("m.gguf", Map.of(), results);

        List<ComputeMatch> matches = ComputeMatch.of(report.results());
        assertEquals(1, matches.size());
        ComputeMatch m = matches.get(0);
        assertEquals("0.75", m.lowerBudget());
        assertEquals("0.875", m.upperBudget());
        double w = (0.8 - 0.75) / 0.125;
        double expected = (1 - w) * b75.meanAccuracyPercent() + w * b875.meanAccuracyPercent();
        assertEquals(expected, m.matchedAccuracy(), 1e-9);
        // auto's own mean, task by task, minus the interpolated curve.
        double autoMean = 100 * (210 / 500.0 + 1400 / 1838.0 + 2450 / 3270.0) / 3;
        assertEquals(autoMean - expected, m.difference(), 1e-9);
        double se875 = ComputeMatch.meanStderr(b875);
        double se75 = ComputeMatch.meanStderr(b75);
        assertEquals(Math.sqrt(Math.pow((1 - w) * se75, 2) + Math.pow(w * se875, 2)), m.matchedStderr(), 1e-12);
        double obqa = 100 * Math.sqrt(0.43 * 0.57 / 499); // 215/500 acc_norm, sample standard error
        assertTrue(se875 > obqa / 3 && se875 < obqa, "mean's error " + se875 + " against one task's " + obqa);

        String md = report.markdown();
        assertTrue(md.contains("Budget Predictor against the same method's fixed budgets"), md);
        assertTrue(md.contains(String.format(java.util.Locale.ROOT, "| buddy | 0.800 | %.2f", autoMean)), md);
        assertTrue(md.contains("0.75 – 0.875"), md);
        Map<?, ?> json = (Map<?, ?>) Json.parse(JsonText.write(report.json()));
        Map<?, ?> entry = (Map<?, ?>) ((List<?>) json.get("auto_against_fixed_at_same_compute")).get(0);
        assertEquals(Math.round(expected * 1e4) / 1e4, ((Number) entry.get("fixed_mean_acc_at_same_compute"))
                .doubleValue(), 1e-9);
        // The plot draws auto as a point of its own, not as a vertex of buddy's fixed-budget line.
        assertTrue(report.plot().svg().contains("data-method=\"buddy auto\""));
    }

    @Test
    void autoOutsideTheMeasuredBudgetsIsNotExtrapolated() {
        List<ConfigurationResult> results = new ArrayList<>();
        results.add(config("buddy", 0.875, 215, 1420, 2500, 6.0));
        results.add(config("buddy", 0.75, 195, 1345, 2370, 8.25));
        results.add(auto("buddy", 0.6, 190, 1300, 2300));
        EvalReport report = new EvalReport("m.gguf", Map.of(), results);
        ComputeMatch m = ComputeMatch.of(report.results()).get(0);
        assertFalse(m.matched());
        assertNull(m.lowerBudget());
        assertEquals("0.75", m.upperBudget());
        assertTrue(report.markdown().contains("outside the measured budgets (all above)"), report.markdown());
        // Dense at 1.0 extends the curve when the auto point lies above the top fixed budget.
        results.add(config("dense", 1.0, 221, 1454, 2541, 5.47));
        results.set(2, auto("buddy", 0.95, 218, 1440, 2520));
        ComputeMatch top = ComputeMatch.of(new EvalReport("m.gguf", Map.of(), results).results()).get(0);
        assertTrue(top.matched());
        assertEquals("0.875", top.lowerBudget());
        assertEquals("dense", top.upperBudget());
    }
}
