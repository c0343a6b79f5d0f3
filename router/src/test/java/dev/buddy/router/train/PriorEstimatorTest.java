package dev.buddy.router.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

import dev.buddy.engine.tensor.Parallel;
import dev.buddy.gguf.GgmlType;
import dev.buddy.gguf.TestData;
import dev.buddy.router.Budget;
import dev.buddy.router.Priors;
import dev.buddy.router.RouterFile;
import dev.buddy.router.StaticPlan;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The three prior indicators against independent computations on a synthetic model whose block 2 is silent (its
 * output projections are zero, so it changes nothing): Taylor against finite differences of the mean calibration
 * loss in each gate, ΔPPL against {@link RoutedEvaluation} with one block left out, and all three ranking the
 * silent block last. Then the command's static plan on the real TinyStories model.
 */
class PriorEstimatorTest {
    private static final int SILENT = 2;
    /** JUnit deletes it after {@code @AfterAll} has closed the mapped model, so no run leaves files in /tmp. */
    @TempDir
    static Path dir;
    private static FrozenModel model;
    private static TrainingData data;

    @BeforeAll
    static void setUp() throws IOException {
        SyntheticModel shape = new SyntheticModel("qwen2", 5, 32, 4, 2, 8, 64, 40, false, GgmlType.F32);
        model = FrozenModel.open(shape.write(dir, 3, SILENT));
        data = ListData.random(21, 12, 10, 40, 1);
    }

    @AfterAll
    static void tearDown() {
        model.close();
    }

    @Test
    void taylorIsTheGateDerivativeOfTheMeanCalibrationLoss() {
        PriorEstimator.Estimate estimate = PriorEstimator.estimate(model, data, PriorKind.TAYLOR, 2);
        assertEquals(3, estimate.raw().length);
        try (Parallel pool = new Parallel(2)) {
            ModelPass pass = new ModelPass(model, 10, pool);
            for (int j = 0; j < 3; j++) {
                int block = j + 1;
                double numeric = FiniteDifference.derivative(e -> {
                    float[] gates = {1, 1, 1, 1, 1};
                    gates[block] += (float) e;
                    return meanLoss(pass, gates);
                }, 1e-2);
                double error = Math.abs(Math.abs(numeric) - estimate.raw()[j]);
                assertTrue(error <= 2e-3 * Math.max(1e-2, Math.abs(numeric)), "block " + block + ": Taylor "
                        + estimate.raw()[j] + " vs |dL/dm| " + Math.abs(numeric));
            }
        }
        assertEquals(0.0, estimate.raw()[SILENT - 1], 1e-6, "a silent block has no first-order effect");
        assertArrayEquals(Priors.normalize(estimate.raw(), true), estimate.prior().values());
        assertEquals("taylor", estimate.prior().kind());
        assertEquals(SILENT, estimate.ranking()[2], "the silent block ranks last");
    }

    private static double meanLoss(ModelPass pass, float[] gates) {
        int[] targets = new int[10];
        double nll = 0;
        long tokens = 0;
        for (int i = 0; i < data.size(); i++) {
            TrainingExample e = data.example(i);
            pass.embed(e.tokens(), e.length());
            pass.forward(e.length(), gates, false);
            e.targets(targets);
            nll += pass.headLoss(targets, 1f, false);
            tokens += e.targetCount();
        }
        return nll / tokens;
    }

    @Test
    void deltaPerplexityMatchesEvaluationWithOneBlockLeftOut() {
        PriorEstimator.Estimate estimate = PriorEstimator.estimate(model, data, PriorKind.PPL, 2);
        double full = RoutedEvaluation.evaluate(model, data, SequenceRouting.fullDepth(), Budget.full(), 2)
                .perplexity();
        int[][] without = {{2, 3}, {1, 3}, {1, 2}};
        for (int j = 0; j < 3; j++) {
            double skipped = RoutedEvaluation.evaluate(model, data, SequenceRouting.fixed(without[j]),
                    Budget.full(), 2).perplexity();
            assertEquals(Math.max(0, skipped - full), estimate.raw()[j], 1e-9 * skipped, "block " + (j + 1));
        }
        // Removing a random block may also lower the perplexity, which direction unification clips to 0 as well, so
        // the silent block is a minimum but not necessarily alone in last place.
        assertEquals(0.0, estimate.raw()[SILENT - 1], 0.0);
    }

    @Test
    void cosineDistanceIsBoundedAndZeroForASilentBlock() {
        PriorEstimator.Estimate estimate = PriorEstimator.estimate(model, data, PriorKind.COSINE, 2);
        for (double d : estimate.raw()) {
            assertTrue(d >= 0 && d <= 2, "cosine distance " + d);
        }
        assertEquals(0.0, estimate.raw()[SILENT - 1], 1e-6);
        assertTrue(estimate.raw()[0] > 1e-4 && estimate.raw()[2] > 1e-4, Arrays.toString(estimate.raw()));
        assertArrayEquals(Priors.normalize(estimate.raw(), false), estimate.prior().values());
        assertEquals(SILENT, estimate.ranking()[2]);
    }

    @Test
    void priorCommandPrintsEveryBlockAndWritesAPriorFileThatIsAlsoAStaticPlan(@TempDir Path tmp)
            throws IOException {
        Path stories = TestData.require("models/stories260K.gguf");
        Path text = TestData.require("datasets/tinystories/tinystories-valid-sample.txt");
        Path out = tmp.resolve("prior.gguf");
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        ByteArrayOutputStream progress = new ByteArrayOutputStream();
        PriorEstimator.Estimate estimate = PriorCommand.run(new PriorCommand.Options(stories, text, PriorKind.PPL, 300,
                64, 2, out), new PrintStream(bytes, true, StandardCharsets.UTF_8),
                new PrintStream(progress, true, StandardCharsets.UTF_8));
        String printed = bytes.toString(StandardCharsets.UTF_8);
        for (int block = 1; block <= 3; block++) {
            assertTrue(printed.contains(String.format("%5d  ", block)), printed);
        }
        // 300 tokens in windows of 64 are 5 windows; ΔPPL makes L−1 = 4 passes over each.
        assertEquals(5, estimate.sequences());
        assertTrue(progress.toString(StandardCharsets.UTF_8).contains("20/20"), progress.toString());
        assertTrue(printed.contains("#".repeat(PriorCommand.PLOT_WIDTH)), "the most important block's bar is full");
        try (dev.buddy.gguf.GgufFile f = dev.buddy.gguf.GgufFile.open(stories)) {
            assertEquals(estimate.prior(), PriorFile.read(out, dev.buddy.router.BaseModelInfo.of(f)));
        }
        StaticPlan plan = (StaticPlan) RouterFile.read(out);
        assertArrayEquals(estimate.ranking(), plan.ranking());
        assertEquals("dppl", plan.provenance().priorKind());
        assertEquals(PriorCommand.METHOD, plan.provenance().method());
    }
}
