package dev.buddy.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;

import org.junit.jupiter.api.Test;

import dev.buddy.gguf.GgmlType;

/** The report's arithmetic: bytes and flops per operation times operations per second, and the roofline share. */
class BenchReportTest {
    @Test
    void derivesBandwidthFlopsAndRooflineShareFromOpsPerSecond() {
        long q4Bytes = GgmlType.Q4_0.byteSize(8192L * 2048);
        long bufferBytes = MemoryBandwidthBenchmark.bytesPerOperation(512);
        List<BenchReport.Work> works = List.of(
                new BenchReport.Work("decode", "Q4_0", "8192x2048", 1, 2, q4Bytes, 2L * 8192 * 2048),
                new BenchReport.Work("bandwidth", "-", "512 MiB", 0, 2, bufferBytes, 0),
                new BenchReport.Work("prefill", "Q4_0", "8192x2048", 64, 2, q4Bytes, 2L * 8192 * 2048 * 64),
                new BenchReport.Work("decode", "Q4_0", "8192x2048", 1, 1, q4Bytes, 2L * 8192 * 2048));
        List<double[]> scores = List.of(new double[] {100, 2}, new double[] {20, 1}, new double[] {3, Double.NaN},
                new double[] {50, 1});

        List<BenchReport.Row> rows = BenchReport.rows(works, scores);

        assertEquals(List.of("bandwidth", "decode", "decode", "prefill"),
                rows.stream().map(BenchReport.Row::benchmark).toList());
        BenchReport.Row bandwidth = rows.get(0);
        BenchReport.Row decode2 = rows.get(2);
        assertEquals(20 * bufferBytes / 1e9, bandwidth.gigabytesPerSecond(), 1e-9);
        assertEquals(100 * q4Bytes / 1e9, decode2.gigabytesPerSecond(), 1e-9);
        assertEquals(100 * 2.0 * 8192 * 2048 / 1e9, decode2.gigaflopsPerSecond(), 1e-9);
        assertEquals(decode2.gigabytesPerSecond() / bandwidth.gigabytesPerSecond(), decode2.rooflineFraction(), 1e-12);
        assertTrue(Double.isNaN(rows.get(1).rooflineFraction()), "no bandwidth measured on one thread");
        assertEquals(3 * 2.0 * 8192 * 2048 * 64 / 1e9, rows.get(3).gigaflopsPerSecond(), 1e-9);

        String table = BenchReport.markdown(rows);
        assertEquals(2 + rows.size(), table.lines().count());
        assertTrue(table.lines().skip(2).allMatch(l -> l.startsWith("| ") && l.endsWith(" |")), table);
    }
}
