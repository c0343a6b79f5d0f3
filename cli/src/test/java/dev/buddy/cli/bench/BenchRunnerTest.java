package dev.buddy.cli.bench;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;

/** llama-bench's protocol and statistics, on a scripted workload. */
class BenchRunnerTest {
    /** Records every call and answers with scripted durations. */
    private static final class ScriptedWorkload implements BenchWorkload {
        final List<String> calls = new ArrayList<>();
        final long[] durations;
        int next;

        ScriptedWorkload(long... durations) {
            this.durations = durations;
        }

        @Override
        public int vocabularySize() {
            return 100;
        }

        @Override
        public int startToken() {
            return 7;
        }

        @Override
        public long promptNanos(int[] tokens) {
            for (int t : tokens) {
                assertTrue(t >= 0 && t < 100, "token " + t);
            }
            calls.add("pp" + tokens.length);
            return durations[next++];
        }

        @Override
        public long generationNanos(int first, int[] next, int count) {
            assertEquals(7, first);
            assertTrue(next.length >= count - 1);
            calls.add("tg" + count);
            return durations[this.next++];
        }

        @Override
        public void timedRunsStart() {
            calls.add("timed");
        }

        @Override
        public void close() {}
    }

    @Test
    void warmsUpUntilTwoRunsAgreeThenTimesEveryRepetition() {
        // warm-up: 999 (JIT still compiling), 400 (not settled: 60% faster), 380 (within 10%: settled)
        ScriptedWorkload w = new ScriptedWorkload(999, 400, 380, 1_000_000_000L, 500_000_000L, 250_000_000L);
        BenchMeasurement m = new BenchRunner(3, 1).measure(w, new BenchTest(BenchTest.Kind.PROMPT, 64, 2));
        // the timed-run mark falls after the third warm-up run, so per-run accounting (--cpu-time) skips all three
        assertEquals(List.of("pp64", "pp64", "pp64", "timed", "pp64", "pp64", "pp64"), w.calls);
        assertArrayEquals(new long[] {1_000_000_000L, 500_000_000L, 250_000_000L}, m.samplesNs());
        assertArrayEquals(new double[] {64, 128, 256}, m.samplesTokensPerSecond(), 1e-9);
        double mean = (64 + 128 + 256) / 3.0;
        assertEquals(mean, m.averageTokensPerSecond(), 1e-9);
        double variance = ((64 - mean) * (64 - mean) + (128 - mean) * (128 - mean) + (256 - mean) * (256 - mean)) / 2;
        assertEquals(Math.sqrt(variance), m.stddevTokensPerSecond(), 1e-9);
        assertEquals("pp64", m.test().name());
    }

    @Test
    void warmUpStopsAfterItsLimitEvenIfNeverSettled() {
        ScriptedWorkload w = new ScriptedWorkload(1000, 500, 1000, 500, 1000, 7);
        BenchMeasurement m = new BenchRunner(1, 1).measure(w, new BenchTest(BenchTest.Kind.PROMPT, 8, 1));
        assertEquals(BenchRunner.MAX_WARM_UPS + 2, w.calls.size());
        assertEquals("timed", w.calls.get(BenchRunner.MAX_WARM_UPS));
        assertArrayEquals(new long[] {7}, m.samplesNs());
    }

    @Test
    void generationStartsFromTheStartToken() {
        ScriptedWorkload w = new ScriptedWorkload(5, 5, 5);
        BenchMeasurement m = new BenchRunner(1, 1).measure(w, new BenchTest(BenchTest.Kind.GENERATION, 16, 1));
        assertEquals(List.of("tg16", "tg16", "timed", "tg16"), w.calls);
        assertEquals(0, m.stddevTokensPerSecond());
        assertEquals("tg16", m.test().name());
    }

    @Test
    void peakRssParsesVmHwm() {
        String status = "Name:\tjava\nVmPeak:\t  999 kB\nVmHWM:\t  123456 kB\nVmRSS:\t 1 kB\n";
        assertEquals(123456L * 1024, PeakRss.parse(status));
        assertEquals(-1, PeakRss.parse("Name:\tjava\n"));
    }
}
