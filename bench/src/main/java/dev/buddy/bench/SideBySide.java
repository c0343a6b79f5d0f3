package dev.buddy.bench;

import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import dev.buddy.engine.reference.LlamaCppReference;
import dev.buddy.engine.tensor.VectorWidth;
import dev.buddy.gguf.AtomicFiles;

/**
 * Buddy against llama.cpp on the same GGUF, same threads, same tests, in alternation:
 * <pre>java --add-modules jdk.incubator.vector -cp bench/target/benchmarks.jar dev.buddy.bench.SideBySide \
 *     -m MODEL.gguf [-p 512] [-n 128] [-r 5] [-t 2] [--kv-type f16] [--buddy-jar cli/target/buddy.jar] \
 *     [-o FILE.md]</pre>
 *
 * <h2>Method</h2>
 * Each of the {@code -r} pairs runs both engines, Buddy first in odd pairs and llama.cpp first in even ones (on this
 * project's VM the first run of a pair was seen to gain up to 1.4x at two threads, so a fixed order biases every
 * ratio the same way), each in a fresh child JVM (so neither inherits the other's
 * caches, JIT state or heap): Buddy as {@code buddy bench -r 1 -o json} from the CLI jar, llama.cpp as
 * {@link LlamaCppWorker} over {@link LlamaCppReference} (llama.cpp b4916 in process through FFM). Both warm up
 * untimed first (llama.cpp once, as llama-bench does; Buddy until its JIT has settled, see {@code buddy bench --help}),
 * then do one timed run: pp = one batch of P random tokens from an empty KV cache, tg = N
 * single-token forward passes from BOS on an empty cache (llama-bench's tests). llama.cpp is timed by its own
 * counters (llama_perf_context), Buddy by {@code System.nanoTime} around its forward calls. The report gives every
 * pair's Buddy/llama.cpp ratio and the medians.
 *
 * <p>{@code -Dbuddy.vector.bits=N} given to this JVM is passed on to the Buddy children: 256 compares Buddy's AVX2
 * kernels with llama.cpp's AVX2 build on a CPU that has AVX-512.
 *
 * <p>Peak RSS: each child reads its own {@code VmHWM} from {@code /proc/self/status} before exiting. Both engines run
 * inside a JVM here, so a child that loads nothing ({@link LlamaCppWorker} {@code --baseline}) is measured once and
 * subtracted from llama.cpp's figure to estimate llama.cpp alone; Buddy's figure is what Buddy really costs.
 */
public final class SideBySide {
    private SideBySide() {}

    /** Which child to start. */
    enum Engine { BUDDY, LLAMA_CPP, JVM_BASELINE }

    /** Starts a child and returns its figures. */
    @FunctionalInterface
    interface Launcher {
        EngineRun run(Engine engine) throws IOException, InterruptedException;
    }

    /**
     * The comparison to run.
     *
     * @param model the GGUF both engines load
     * @param promptTokens pp test size (0 skips)
     * @param generatedTokens tg test size (0 skips)
     * @param pairs Buddy/llama.cpp pairs
     * @param threads threads for both engines
     * @param kvType f16 or f32 for both engines' KV cache
     * @param buddyJar the buddy CLI jar
     */
    record Config(Path model, int promptTokens, int generatedTokens, int pairs, int threads, String kvType,
                  Path buddyJar) {
        /** @throws IllegalArgumentException naming the option whose value cannot be run */
        Config {
            if (promptTokens < 0 || generatedTokens < 0 || promptTokens + generatedTokens == 0) {
                throw new IllegalArgumentException("-p and -n need at least one token between them, got -p "
                        + promptTokens + " -n " + generatedTokens);
            }
            if (pairs < 1) {
                throw new IllegalArgumentException("-r needs at least 1 pair, got " + pairs);
            }
            if (threads < 1) {
                throw new IllegalArgumentException("-t needs at least 1 thread, got " + threads);
            }
            if (!kvType.equals("f16") && !kvType.equals("f32")) {
                throw new IllegalArgumentException("--kv-type is f16 or f32, got '" + kvType + "'");
            }
        }
    }

    /** All runs: one Buddy and one llama.cpp run per pair, and the idle-JVM baseline. */
    record Report(Config config, List<EngineRun> buddy, List<EngineRun> llama, EngineRun baseline) {

        double[] promptRatios() {
            return ratios(true);
        }

        double[] generationRatios() {
            return ratios(false);
        }

        private double[] ratios(boolean prompt) {
            double[] r = new double[buddy.size()];
            for (int i = 0; i < r.length; i++) {
                r[i] = prompt ? buddy.get(i).promptTokensPerSecond() / llama.get(i).promptTokensPerSecond()
                        : buddy.get(i).generationTokensPerSecond() / llama.get(i).generationTokensPerSecond();
            }
            return r;
        }

        /** The report as markdown, headed by the command that produced it. */
        String markdown(String commandLine, String environment) {
            Config c = config;
            String pp = "pp" + c.promptTokens();
            String tg = "tg" + c.generatedTokens();
            StringBuilder sb = new StringBuilder();
            sb.append(String.format(Locale.ROOT, "### Buddy vs llama.cpp: %s, %d threads, KV %s%n%n",
                    c.model().getFileName(), c.threads(), c.kvType()));
            sb.append("Command: `").append(commandLine).append("`\n\n");
            sb.append(environment).append("\n\n");
            sb.append(String.format(Locale.ROOT, "| pair | Buddy %s t/s | llama.cpp %s t/s | %s ratio | Buddy %s t/s "
                    + "| llama.cpp %s t/s | %s ratio |%n", pp, pp, pp, tg, tg, tg));
            sb.append("|---:|---:|---:|---:|---:|---:|---:|\n");
            double[] ppRatios = promptRatios();
            double[] tgRatios = generationRatios();
            for (int i = 0; i < buddy.size(); i++) {
                sb.append(String.format(Locale.ROOT, "| %d | %s | %s | %s | %s | %s | %s |%n", i + 1,
                        rate(buddy.get(i).promptTokensPerSecond()), rate(llama.get(i).promptTokensPerSecond()),
                        ratio(ppRatios[i]), rate(buddy.get(i).generationTokensPerSecond()),
                        rate(llama.get(i).generationTokensPerSecond()), ratio(tgRatios[i])));
            }
            sb.append(String.format(Locale.ROOT, "| **median** | %s | %s | **%s** | %s | %s | **%s** |%n",
                    rate(median(buddy, true)), rate(median(llama, true)), ratio(Stats.median(ppRatios)),
                    rate(median(buddy, false)), rate(median(llama, false)), ratio(Stats.median(tgRatios))));
            long buddyRss = medianRss(buddy);
            long llamaRss = medianRss(llama);
            sb.append(String.format(Locale.ROOT, "%nPeak RSS (VmHWM, median of the runs): Buddy %s; llama.cpp %s in a "
                            + "JVM, about %s without the JVM (an idle child JVM peaks at %s).%n", mib(buddyRss),
                    mib(llamaRss), mib(llamaRss < 0 || baseline.peakRssBytes() < 0 ? -1
                            : llamaRss - baseline.peakRssBytes()), mib(baseline.peakRssBytes())));
            return sb.toString();
        }

        private static double median(List<EngineRun> runs, boolean prompt) {
            return Stats.median(runs.stream().mapToDouble(r -> prompt ? r.promptTokensPerSecond()
                    : r.generationTokensPerSecond()).toArray());
        }

        private static long medianRss(List<EngineRun> runs) {
            return (long) Stats.median(runs.stream().mapToDouble(EngineRun::peakRssBytes).filter(b -> b >= 0)
                    .toArray());
        }

        private static String rate(double tokensPerSecond) {
            return Double.isNaN(tokensPerSecond) ? "-" : String.format(Locale.ROOT, "%.2f", tokensPerSecond);
        }

        private static String ratio(double r) {
            return Double.isNaN(r) ? "-" : String.format(Locale.ROOT, "%.2fx", r);
        }

        private static String mib(long bytes) {
            return bytes < 0 ? "n/a" : String.format(Locale.ROOT, "%.0f MiB", bytes / (1024.0 * 1024));
        }
    }

    /**
     * Runs the pairs, Buddy first in odd pairs and llama.cpp first in even ones, reporting each finished run on
     * {@code progress}.
     */
    static Report run(Config config, Launcher launcher, PrintStream progress)
            throws IOException, InterruptedException {
        EngineRun baseline = launcher.run(Engine.JVM_BASELINE);
        List<EngineRun> buddy = new ArrayList<>();
        List<EngineRun> llama = new ArrayList<>();
        for (int i = 1; i <= config.pairs(); i++) {
            boolean buddyFirst = i % 2 == 1;
            if (buddyFirst) {
                buddy.add(launcher.run(Engine.BUDDY));
                progress.printf(Locale.ROOT, "pair %d/%d: Buddy    %s%n", i, config.pairs(), buddy.getLast());
            }
            llama.add(launcher.run(Engine.LLAMA_CPP));
            progress.printf(Locale.ROOT, "pair %d/%d: llama.cpp %s%n", i, config.pairs(), llama.getLast());
            if (!buddyFirst) {
                buddy.add(launcher.run(Engine.BUDDY));
                progress.printf(Locale.ROOT, "pair %d/%d: Buddy    %s%n", i, config.pairs(), buddy.getLast());
            }
        }
        return new Report(config, buddy, llama, baseline);
    }

    public static void main(String[] argv) throws Exception {
        Args args;
        Config config;
        try {
            args = new Args(argv);
            List<String> unknown = args.unknown(List.of("-m", "-p", "-n", "-r", "-t", "--kv-type", "--buddy-jar",
                    "-o"));
            if (args.flag("-h") || args.flag("--help") || !unknown.isEmpty()) {
                System.err.println((unknown.isEmpty() ? "" : "unknown options " + unknown + "\n")
                        + "usage: SideBySide -m MODEL.gguf [-p 512] [-n 128] [-r 5] [-t 2] [--kv-type f16]"
                        + " [--buddy-jar cli/target/buddy.jar] [-o FILE.md]");
                System.exit(unknown.isEmpty() ? 0 : 2);
            }
            config = new Config(Path.of(args.required("-m")), args.integer("-p", 512), args.integer("-n", 128),
                    args.integer("-r", 5), args.integer("-t", Runtime.getRuntime().availableProcessors()),
                    args.value("--kv-type", "f16"), Path.of(args.value("--buddy-jar", "cli/target/buddy.jar")));
            for (Path p : List.of(config.model(), config.buddyJar())) {
                if (!Files.isRegularFile(p)) {
                    throw new IllegalArgumentException("file not found: " + p);
                }
            }
        } catch (IllegalArgumentException e) {
            Args.exitWithError("SideBySide", e.getMessage());
            return;
        }
        Report report = run(config, new ChildLauncher(config), System.err);
        String markdown = report.markdown(commandLine(argv), environment(config));
        System.out.print(markdown);
        String output = args.value("-o", null);
        if (output != null) {
            try {
                AtomicFiles.writeString(Path.of(output), markdown);
            } catch (IOException e) {
                Args.exitWithError("SideBySide", "cannot write " + output + ": " + e.getMessage());
            }
        }
    }

    private static String commandLine(String[] argv) {
        String bits = System.getProperty(VectorWidth.PROPERTY);
        return "java --add-modules jdk.incubator.vector"
                + (bits == null ? "" : " -D" + VectorWidth.PROPERTY + "=" + bits)
                + " -cp bench/target/benchmarks.jar dev.buddy.bench.SideBySide " + String.join(" ", argv);
    }

    /**
     * The CPU's model name ({@code /proc/cpuinfo}'s first "model name" line on Linux), so that a report says which
     * CPU its ratios belong to: the same VM image has run on a Zen 4 and on an Intel Xeon, whose ratios differ.
     */
    static String cpuModel() {
        try (var lines = Files.lines(Path.of("/proc/cpuinfo"))) {
            return lines.filter(l -> l.startsWith("model name")).map(l -> l.substring(l.indexOf(':') + 1).strip())
                    .findFirst().orElse("unknown CPU");
        } catch (IOException | UncheckedIOException e) {
            return "unknown CPU";
        }
    }

    private static String environment(Config c) {
        return String.format(Locale.ROOT, "Machine: %s, %d logical CPUs (%s %s), Java %s; llama.cpp %s; %d pairs,"
                        + " each engine in a fresh JVM (Buddy first in odd pairs, llama.cpp first in even ones),"
                        + " untimed warm-up (llama.cpp once, Buddy until two runs agree within 10%%) and one timed run"
                        + " per test per child.", cpuModel(), Runtime.getRuntime().availableProcessors(),
                System.getProperty("os.name"), System.getProperty("os.arch"), System.getProperty("java.version"),
                LlamaCppReference.llamaCppVersion(), c.pairs());
    }
}
