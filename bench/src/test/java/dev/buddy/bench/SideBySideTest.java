package dev.buddy.bench;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;

/** The side-by-side's orchestration and arithmetic, with scripted engines instead of child JVMs. */
class SideBySideTest {
    private static final SideBySide.Config CONFIG = new SideBySide.Config(Path.of("m.gguf"), 512, 128, 3, 2, "f16",
            Path.of("buddy.jar"));

    @Test
    void swapsWhichEngineRunsFirstEveryPairAndReportsPerPairRatiosAndMedians() throws Exception {
        List<SideBySide.Engine> order = new ArrayList<>();
        double[] buddyPp = {100, 120, 90};
        double[] llamaPp = {200, 200, 180};
        double[] buddyTg = {10, 12, 11};
        double[] llamaTg = {20, 16, 22};
        int[] calls = {0, 0};
        SideBySide.Launcher scripted = engine -> {
            order.add(engine);
            return switch (engine) {
                case JVM_BASELINE -> new EngineRun(Double.NaN, Double.NaN, 40L << 20);
                case BUDDY -> new EngineRun(buddyPp[calls[0]], buddyTg[calls[0]++], 900L << 20);
                case LLAMA_CPP -> new EngineRun(llamaPp[calls[1]], llamaTg[calls[1]++], 700L << 20);
            };
        };
        ByteArrayOutputStream progress = new ByteArrayOutputStream();

        SideBySide.Report report = SideBySide.run(CONFIG, scripted,
                new PrintStream(progress, true, StandardCharsets.UTF_8));

        assertEquals(List.of(SideBySide.Engine.JVM_BASELINE, SideBySide.Engine.BUDDY, SideBySide.Engine.LLAMA_CPP,
                SideBySide.Engine.LLAMA_CPP, SideBySide.Engine.BUDDY, SideBySide.Engine.BUDDY,
                SideBySide.Engine.LLAMA_CPP), order);
        assertArrayEquals(new double[] {100 / 200.0, 120 / 200.0, 90 / 180.0}, report.promptRatios(), 1e-12);
        assertArrayEquals(new double[] {10 / 20.0, 12 / 16.0, 11 / 22.0}, report.generationRatios(), 1e-12);
        assertEquals(6, progress.toString(StandardCharsets.UTF_8).lines().count());

        String md = report.markdown("cmd", "env");
        // Medians: pp ratios {0.5, 0.6, 0.5} -> 0.50; tg ratios {0.5, 0.75, 0.5} -> 0.50;
        // Buddy pp {90, 100, 120} -> 100.
        assertTrue(md.contains("| **median** | 100.00 | 200.00 | **0.50x** | 11.00 | 20.00 | **0.50x** |"), md);
        assertTrue(md.contains("| 2 | 120.00 | 200.00 | 0.60x | 12.00 | 16.00 | 0.75x |"), md);
        assertTrue(md.contains("Buddy 900 MiB; llama.cpp 700 MiB in a JVM, about 660 MiB without the JVM"), md);
        assertTrue(md.contains("Command: `cmd`"), md);
    }

    @Test
    void medianIgnoresMissingValues() {
        assertEquals(2.5, Stats.median(new double[] {4, 1, Double.NaN, 2, 3}));
        assertEquals(3.0, Stats.median(new double[] {3}));
        assertTrue(Double.isNaN(Stats.median(new double[] {Double.NaN})));
    }
}
