package dev.buddy.cli.bench;

import java.time.Instant;
import java.util.List;
import java.util.Locale;

import dev.buddy.cli.json.JsonWriter;

/**
 * {@code buddy bench}'s three output formats, with llama-bench's columns and JSON field names so existing tooling and
 * eyes read them alike; Buddy adds the KV type, batch size and the process's peak RSS.
 */
enum BenchOutput {
    MD, CSV, JSON;

    /**
     * @param model the benchmarked file
     * @param config settings shared by all rows
     * @param results one measurement per test, in run order
     * @param peakRssBytes the process's peak RSS after all tests, or -1
     */
    String render(BenchModelInfo model, Config config, List<BenchMeasurement> results, long peakRssBytes) {
        return switch (this) {
            case MD -> markdown(model, config, results);
            case CSV -> csv(model, config, results, peakRssBytes);
            case JSON -> json(model, config, results, peakRssBytes);
        };
    }

    /**
     * Settings shared by every row: batch size, KV type, repetitions, the time the run started, and the backend
     * ("Buddy CPU", or "Buddy OpenCL" with the device name and type).
     */
    record Config(int batchSize, String kvType, int repetitions, Instant started, String backend) {}

    private static String markdown(BenchModelInfo model, Config config, List<BenchMeasurement> results) {
        StringBuilder sb = new StringBuilder();
        sb.append("| model | size | params | backend | threads | n_batch | type_k | test | t/s |\n");
        sb.append("| --- | ---: | ---: | --- | ---: | ---: | --- | ---: | ---: |\n");
        for (BenchMeasurement m : results) {
            sb.append(String.format(Locale.ROOT,
                    "| %s | %.2f MiB | %.2f %s | %s | %d | %d | %s | %s | %.2f ± %.2f |%n",
                    model.description(), model.sizeBytes() / (1024.0 * 1024), scaledCount(model.parameters()),
                    countUnit(model.parameters()), config.backend(), m.test().threads(), config.batchSize(), config.kvType(),
                    m.test().name(), m.averageTokensPerSecond(), m.stddevTokensPerSecond()));
        }
        return sb.toString();
    }

    private static double scaledCount(long n) {
        return n >= 1_000_000_000L ? n / 1e9 : n / 1e6;
    }

    private static String countUnit(long n) {
        return n >= 1_000_000_000L ? "B" : "M";
    }

    private static final String CSV_HEADER = "model_filename,model_type,model_size,model_n_params,n_batch,n_threads,"
            + "type_k,n_prompt,n_gen,test_time,avg_ns,stddev_ns,avg_ts,stddev_ts,peak_rss_bytes";

    private static String csv(BenchModelInfo model, Config config, List<BenchMeasurement> results, long peakRss) {
        StringBuilder sb = new StringBuilder(CSV_HEADER).append('\n');
        for (BenchMeasurement m : results) {
            sb.append(String.format(Locale.ROOT, "%s,%s,%d,%d,%d,%d,%s,%d,%d,%s,%.0f,%.0f,%.6f,%.6f,%d%n",
                    csvField(model.fileName()), csvField(model.description()), model.sizeBytes(), model.parameters(),
                    config.batchSize(), m.test().threads(), config.kvType(), promptTokens(m), generatedTokens(m),
                    config.started(), m.averageNs(), m.stddevNs(), m.averageTokensPerSecond(),
                    m.stddevTokensPerSecond(), peakRss));
        }
        return sb.toString();
    }

    /** RFC 4180: quote a field holding a comma, quote or line break, doubling its quotes. */
    static String csvField(String s) {
        return s.contains(",") || s.contains("\"") || s.contains("\n") || s.contains("\r")
                ? "\"" + s.replace("\"", "\"\"") + "\"" : s;
    }

    private static String json(BenchModelInfo model, Config config, List<BenchMeasurement> results, long peakRss) {
        StringBuilder sb = new StringBuilder();
        JsonWriter w = new JsonWriter(sb);
        w.beginArray();
        for (BenchMeasurement m : results) {
            w.beginObject();
            w.name("model_filename").value(model.fileName());
            w.name("model_type").value(model.description());
            w.name("model_size").value(model.sizeBytes());
            w.name("model_n_params").value(model.parameters());
            w.name("backends").value(config.backend());
            w.name("n_batch").value(config.batchSize());
            w.name("n_threads").value(m.test().threads());
            w.name("type_k").value(config.kvType());
            w.name("type_v").value(config.kvType());
            w.name("n_prompt").value(promptTokens(m));
            w.name("n_gen").value(generatedTokens(m));
            w.name("test_time").value(config.started().toString());
            w.name("avg_ns").value(Math.round(m.averageNs()));
            w.name("stddev_ns").value(Math.round(m.stddevNs()));
            w.name("avg_ts").value(m.averageTokensPerSecond());
            w.name("stddev_ts").value(m.stddevTokensPerSecond());
            w.name("samples_ns").beginArray();
            for (long ns : m.samplesNs()) {
                w.value(ns);
            }
            w.endArray();
            w.name("samples_ts").beginArray();
            for (double ts : m.samplesTokensPerSecond()) {
                w.value(ts);
            }
            w.endArray();
            w.name("peak_rss_bytes").value(peakRss);
            w.endObject();
        }
        w.endArray();
        return sb.append('\n').toString();
    }

    private static int promptTokens(BenchMeasurement m) {
        return m.test().kind() == BenchTest.Kind.PROMPT ? m.test().tokens() : 0;
    }

    private static int generatedTokens(BenchMeasurement m) {
        return m.test().kind() == BenchTest.Kind.GENERATION ? m.test().tokens() : 0;
    }
}
