package dev.buddy.bench;

import dev.buddy.engine.model.LayerWeights;
import dev.buddy.engine.model.Model;
import dev.buddy.engine.model.ModelLoadException;
import dev.buddy.engine.model.ModelWeights;
import dev.buddy.engine.tensor.Parallel;
import dev.buddy.engine.tensor.QuantizedInput;
import dev.buddy.engine.tensor.WeightMatrix;
import dev.buddy.gguf.AtomicFiles;
import dev.buddy.gguf.GgufFormatException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.TreeSet;

/**
 * Where a decode step's weight-streaming time goes: every matrix-vector product of one token, replayed in the
 * forward pass's order on the model's own loaded matrices, timed per projection (Q/K/V, attention output, gate/up,
 * down, output head) and type, medians over many steps.
 *
 * <p>It answers what the JMH kernel suite cannot: how fast each kernel runs between the model's other matrices, with
 * the model's shapes, thread pool and sharing of one converted input. Session 41 needed it: a Q4_K kernel 1.45x
 * faster in JMH from memory (8192x2048 copies cycled through 1 GiB) sped decode up by 1.01x, and this replay showed
 * why: inside the model's sequence the old kernel already streamed its matrices at 10-11 GB/s, against 8.1 in JMH.
 * Attention, norms and sampling are not replayed, so {@code 1 / step} is an upper bound on decode tokens per second.
 * Products are grouped as {@code Transformer} runs them: matrices sharing an activation format run as one parallel
 * region ({@link WeightMatrix#matmulAll}), others one by one.
 */
public final class DecodeReplay {
    private DecodeReplay() {}

    /** The projections of a block and the head, in forward-pass order, as the report names them. */
    private enum Projection {
        QKV("attn_q, attn_k, attn_v"), OUTPUT("attn_output"), GATE_UP("ffn_gate, ffn_up"), DOWN("ffn_down"),
        HEAD("output");

        final String label;

        Projection(String label) {
            this.label = label;
        }
    }

    /** One projection of every block (or the head) with one combination of weight types, and its median time. */
    record Line(String projection, String types, int callsPerStep, long bytesPerStep, double medianMillis) {
        double gigabytesPerSecond() {
            return bytesPerStep / (medianMillis * 1e6);
        }
    }

    /** The lines, and the median over steps of the whole step's product time. */
    record Report(List<Line> lines, double stepMillis, int steps, int threads) {
        long bytesPerStep() {
            return lines.stream().mapToLong(Line::bytesPerStep).sum();
        }

        String markdown(String command, String model) {
            var sb = new StringBuilder();
            sb.append(String.format(Locale.ROOT, "Decode-step replay of %s: %d timed steps after as many untimed,"
                    + " %d threads.%n%n", model, steps, threads));
            sb.append("| projection | weight types | calls per step | MiB per step | ms per step (median) | GB/s"
                    + " | share |\n|---|---|---:|---:|---:|---:|---:|\n");
            double sum = lines.stream().mapToDouble(Line::medianMillis).sum();
            for (Line l : lines) {
                sb.append(String.format(Locale.ROOT, "| %s | %s | %d | %.1f | %.2f | %.2f | %.1f%% |%n", l.projection(),
                        l.types(), l.callsPerStep(), l.bytesPerStep() / 1048576.0, l.medianMillis(),
                        l.gigabytesPerSecond(), 100 * l.medianMillis() / sum));
            }
            sb.append(String.format(Locale.ROOT, "| **step** | | %d | %.1f | **%.2f** | %.2f | |%n%n",
                    lines.stream().mapToInt(Line::callsPerStep).sum(), bytesPerStep() / 1048576.0, stepMillis,
                    bytesPerStep() / (stepMillis * 1e6)));
            sb.append(String.format(Locale.ROOT, "Products alone allow at most %.2f tokens per second (attention,"
                    + " norms and sampling are not replayed).%n%nCommand: `%s`%n", 1000 / stepMillis, command));
            return sb.toString();
        }
    }

    /** What one report line adds up: its projection and weight types, bytes and calls per step, time per step. */
    private static final class Tally {
        final Projection projection;
        final String types;
        long bytesPerStep;
        int callsPerStep;
        final double[] millis;

        Tally(Projection projection, String types, int steps) {
            this.projection = projection;
            this.types = types;
            this.millis = new double[steps];
        }
    }

    /** One parallel region of the replay: the matrices it multiplies, their input, and the line it is timed under. */
    private record Region(Tally tally, WeightMatrix[] matrices, float[][] outs, QuantizedInput in) {}

    /**
     * Replays {@code steps} untimed and then {@code steps} timed decode steps' products on {@code weights}.
     *
     * @throws IllegalArgumentException when {@code steps} is below 1
     */
    static Report run(ModelWeights weights, Parallel pool, int steps) {
        if (steps < 1) {
            throw new IllegalArgumentException("-n needs at least 1 step, got " + steps);
        }
        Map<String, Tally> tallies = new LinkedHashMap<>();
        List<Region> regions = new ArrayList<>();
        for (LayerWeights layer : weights.layers()) {
            addRegions(Projection.QKV, List.of(layer.wq(), layer.wk(), layer.wv()), steps, tallies, regions);
            addRegions(Projection.OUTPUT, List.of(layer.wo()), steps, tallies, regions);
            addRegions(Projection.GATE_UP, List.of(layer.ffnGate(), layer.ffnUp()), steps, tallies, regions);
            addRegions(Projection.DOWN, List.of(layer.ffnDown()), steps, tallies, regions);
        }
        addRegions(Projection.HEAD, List.of(weights.output()), steps, tallies, regions);
        int maxCols = 0;
        // one matrix per type and width compiles that type's kernels, which all its matrices share
        Map<Object, WeightMatrix> warmed = new LinkedHashMap<>();
        for (Region r : regions) {
            for (WeightMatrix m : r.matrices()) {
                maxCols = Math.max(maxCols, m.cols());
                warmed.putIfAbsent(m.type(), m);
            }
        }
        warmed.values().forEach(WeightMatrix::warmUp);
        // A fixed pseudo-random activation: the kernels' speed does not depend on the values.
        float[] x = new float[maxCols];
        Random random = new Random(41);
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) random.nextGaussian();
        }
        double[] stepMillis = new double[steps];
        for (int step = -steps; step < steps; step++) {
            long stepStart = System.nanoTime();
            for (Region r : regions) {
                WeightMatrix first = r.matrices()[0];
                long start = System.nanoTime();
                // converted per region, as the model does after every norm (twice a block) and once for the head
                r.in().quantize(x, 0, 1, first.cols(), pool);
                if (r.matrices().length == 1) {
                    first.matvec(r.in(), r.outs()[0], 0, pool);
                } else {
                    WeightMatrix.matmulAll(r.in(), r.matrices(), r.outs(), pool);
                }
                if (step >= 0) {
                    r.tally().millis[step] += (System.nanoTime() - start) / 1e6;
                }
            }
            if (step >= 0) {
                stepMillis[step] = (System.nanoTime() - stepStart) / 1e6;
            }
        }
        List<Line> lines = tallies.values().stream()
                // in forward-pass order, each projection's type combinations together
                .sorted(Comparator.comparing((Tally t) -> t.projection).thenComparing(t -> t.types))
                .map(t -> new Line(t.projection.label, t.types, t.callsPerStep, t.bytesPerStep,
                        Stats.median(t.millis)))
                .toList();
        return new Report(lines, Stats.median(stepMillis), steps, pool.threads());
    }

    /**
     * The model's regions for one projection: one if every matrix takes the same activation format, else one per
     * matrix (as {@code Transformer.projectNormed}); each timed under the line of its projection and weight types.
     */
    private static void addRegions(Projection projection, List<WeightMatrix> matrices, int steps,
            Map<String, Tally> tallies, List<Region> regions) {
        boolean shared = matrices.stream().allMatch(m -> m.activationFormat() == matrices.get(0).activationFormat());
        List<List<WeightMatrix>> groups = shared ? List.of(matrices) : matrices.stream().map(List::of).toList();
        for (List<WeightMatrix> group : groups) {
            var types = new TreeSet<String>();
            for (WeightMatrix m : group) {
                types.add(m.type().name());
            }
            String typeList = String.join(", ", types);
            Tally tally = tallies.computeIfAbsent(projection + " " + typeList,
                    k -> new Tally(projection, typeList, steps));
            tally.callsPerStep++;
            group.forEach(m -> tally.bytesPerStep += m.byteSize());
            float[][] outs = group.stream().map(m -> new float[m.rows()]).toArray(float[][]::new);
            // its own converted input, made here so that the timed loop allocates nothing
            regions.add(new Region(tally, group.toArray(WeightMatrix[]::new), outs,
                    new QuantizedInput(group.get(0).activationFormat())));
        }
    }

    public static void main(String[] argv) {
        try {
            Args args = new Args(argv);
            List<String> unknown = args.unknown(List.of("-m", "-n", "-t", "-o"));
            if (args.flag("-h") || args.flag("--help") || !unknown.isEmpty()) {
                System.err.println((unknown.isEmpty() ? "" : "unknown options " + unknown + "\n")
                        + "usage: DecodeReplay -m MODEL.gguf [-n 60] [-t THREADS] [-o FILE.md]\n"
                        + "Times one decode step's matrix-vector products, in the model's order, per projection and"
                        + " weight type:\nmedian ms per step, GB/s of weights streamed, share of the step.");
                System.exit(unknown.isEmpty() ? 0 : 2);
            }
            int steps = args.integer("-n", 60);
            if (steps < 1) {
                throw new IllegalArgumentException("-n needs at least 1 step, got " + steps);
            }
            int threads = args.integer("-t", Runtime.getRuntime().availableProcessors());
            if (threads < 1) {
                throw new IllegalArgumentException("-t needs at least 1 thread, got " + threads);
            }
            Path file = Path.of(args.required("-m"));
            if (!Files.isRegularFile(file)) {
                throw new IllegalArgumentException("model file not found: " + file);
            }
            Report report;
            try (Model model = Model.load(file); Parallel pool = new Parallel(threads)) {
                report = run(model.weights(), pool, steps);
            }
            String markdown = report.markdown("java --add-modules jdk.incubator.vector -cp bench/target/benchmarks.jar"
                    + " dev.buddy.bench.DecodeReplay " + String.join(" ", argv), file.getFileName().toString());
            System.out.print(markdown);
            String output = args.value("-o", null);
            if (output != null) {
                AtomicFiles.writeString(Path.of(output), markdown);
            }
        } catch (IllegalArgumentException | ModelLoadException | GgufFormatException | IOException e) {
            Args.exitWithError("DecodeReplay", e.getMessage());
        }
    }
}
