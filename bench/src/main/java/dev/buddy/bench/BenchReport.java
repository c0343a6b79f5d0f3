package dev.buddy.bench;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import org.openjdk.jmh.infra.BenchmarkParams;
import org.openjdk.jmh.results.RunResult;

import dev.buddy.gguf.GgmlType;

/**
 * Turns JMH's operations per second into the figures that matter for inference: GB/s of weights streamed, GFLOP/s,
 * and the fraction of the machine's memory bandwidth (from {@link MemoryBandwidthBenchmark} at the same thread
 * count, when it ran in the same suite) each kernel reaches.
 *
 * <p>Work per operation: a decode matvec of an r x c matrix streams its weight bytes and does 2rc flops; a prefill
 * matmul over t tokens streams the weights (at least) once and does 2rct flops; a bandwidth read streams its buffer.
 */
final class BenchReport {
    private BenchReport() {}

    /**
     * One benchmark result in inference terms.
     *
     * @param benchmark e.g. {@code decode}, {@code prefill}, {@code bandwidth}
     * @param format weight type (the KV cache's for attention), or "-" for the bandwidth benchmark
     * @param shape rows x cols, or the buffer size
     * @param tokens activations per operation (1 for decode; the query heads sharing the KV head for attention)
     * @param threads threads used
     * @param opsPerSecond JMH's score
     * @param opsError JMH's 99.9% confidence half-width
     * @param gigabytesPerSecond bytes streamed per second / 1e9
     * @param gigaflopsPerSecond flops per second / 1e9 (0 for the bandwidth benchmark)
     * @param rooflineFraction gigabytesPerSecond over the bandwidth benchmark's at the same thread count, or NaN
     */
    record Row(String benchmark, String format, String shape, int tokens, int threads, double opsPerSecond,
               double opsError, double gigabytesPerSecond, double gigaflopsPerSecond, double rooflineFraction) {}

    /** What one operation of a benchmark does. */
    record Work(String benchmark, String format, String shape, int tokens, int threads, long bytes, long flops) {}

    static Work work(BenchmarkParams params) {
        String method = params.getBenchmark().substring(params.getBenchmark().lastIndexOf('.') + 1);
        if (params.getBenchmark().contains(AttentionBenchmark.class.getSimpleName() + ".")) {
            return attentionWork(method, params);
        }
        int threads = ThreadCount.parse(params.getParam("threads"));
        if (method.equals("read")) {
            int sizeMiB = Integer.parseInt(params.getParam("sizeMiB"));
            return new Work("bandwidth", "-", sizeMiB + " MiB", 0, threads,
                    MemoryBandwidthBenchmark.bytesPerOperation(sizeMiB), 0);
        }
        String shape = params.getParam("shape");
        long rows = KernelState.rows(shape);
        long cols = KernelState.cols(shape);
        GgmlType type = GgmlType.valueOf(params.getParam("format"));
        int tokens = method.equals("prefill") ? Integer.parseInt(params.getParam("tokens")) : 1;
        // one copy (workingSetMiB=0) is read from cache, so its share of the DRAM roofline can pass 100%
        String label = "0".equals(params.getParam("workingSetMiB")) ? shape + " cached" : shape;
        return new Work(method, type.name(), label, tokens, threads, type.byteSize(rows * cols),
                2 * rows * cols * tokens);
    }

    /**
     * An {@link AttentionBenchmark} call streams one KV head's keys or values once ({@code positions x headDim} in
     * the cache's type) and does 2 flops per element per query head of the group.
     */
    static Work attentionWork(String method, BenchmarkParams params) {
        int headDim = Integer.parseInt(params.getParam("headDim"));
        int group = Integer.parseInt(params.getParam("group"));
        int positions = Integer.parseInt(params.getParam("positions"));
        GgmlType type = GgmlType.valueOf(params.getParam("kvType"));
        return new Work(method, type.name(), positions + " x " + headDim, group, 1,
                type.byteSize((long) positions * headDim), 2L * positions * headDim * group);
    }

    static List<Row> rows(Collection<RunResult> results) {
        List<Work> works = new ArrayList<>();
        List<double[]> scores = new ArrayList<>();
        for (RunResult r : results) {
            works.add(work(r.getParams()));
            scores.add(new double[] {r.getPrimaryResult().getScore(), r.getPrimaryResult().getScoreError()});
        }
        return rows(works, scores);
    }

    /** Rows from work descriptions and their {ops/s, error} scores, sorted by benchmark, format and threads. */
    static List<Row> rows(List<Work> works, List<double[]> scores) {
        Map<Integer, Double> bandwidthByThreads = new HashMap<>();
        for (int i = 0; i < works.size(); i++) {
            Work w = works.get(i);
            if (w.benchmark().equals("bandwidth")) {
                bandwidthByThreads.merge(w.threads(), scores.get(i)[0] * w.bytes() / 1e9, Math::max);
            }
        }
        List<Row> rows = new ArrayList<>();
        for (int i = 0; i < works.size(); i++) {
            Work w = works.get(i);
            double ops = scores.get(i)[0];
            double gbs = ops * w.bytes() / 1e9;
            Double roof = bandwidthByThreads.get(w.threads());
            rows.add(new Row(w.benchmark(), w.format(), w.shape(), w.tokens(), w.threads(), ops, scores.get(i)[1],
                    gbs, ops * w.flops() / 1e9, roof == null ? Double.NaN : gbs / roof));
        }
        rows.sort(Comparator.comparing(Row::benchmark).thenComparing(r -> formatOrder(r.format()))
                .thenComparingInt(Row::threads));
        return rows;
    }

    private static int formatOrder(String format) {
        return format.equals("-") ? -1 : GgmlType.valueOf(format).ordinal();
    }

    static String markdown(List<Row> rows) {
        StringBuilder sb = new StringBuilder();
        sb.append("| benchmark | format | shape | tokens | threads | ops/s | GB/s (weights) | GFLOP/s"
                + " | of bandwidth |\n");
        sb.append("|---|---|---|---:|---:|---:|---:|---:|---:|\n");
        for (Row r : rows) {
            String error = Double.isFinite(r.opsError()) ? String.format(Locale.ROOT, " ± %.1f", r.opsError()) : "";
            sb.append(String.format(Locale.ROOT, "| %s | %s | %s | %d | %d | %.1f%s | %.2f | %.2f | %s |%n",
                    r.benchmark(), r.format(), r.shape(), r.tokens(), r.threads(), r.opsPerSecond(), error,
                    r.gigabytesPerSecond(), r.gigaflopsPerSecond(),
                    Double.isNaN(r.rooflineFraction()) ? "-"
                            : String.format(Locale.ROOT, "%.0f%%", 100 * r.rooflineFraction())));
        }
        return sb.toString();
    }
}
