package dev.buddy.bench;

import java.util.Random;
import java.util.concurrent.TimeUnit;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import dev.buddy.engine.kv.KvCache;
import dev.buddy.engine.kv.KvCacheType;

/**
 * One prefill token's attention over a KV head, for the query heads that share it (GQA): K·q for every position,
 * then softmax·V, in a batch's (tinyBLAS) summation order. {@code group} runs the cache's group calls, which read
 * each key and value row once for all the heads; {@code perHead} runs the one-query calls once per head, as the
 * forward pass did before. Both give the same bits (KvCacheProperties). The defaults are SmolLM2-135M's heads (64
 * wide, 3 query heads per KV head) at the middle of a 1,024-token prompt; Llama-3.2-1B's are {@code -p headDim=128
 * -p group=4}. The softmax between the two calls is the same for both and left out.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"})
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class AttentionBenchmark {

    @Param({"F16", "F32"})
    public KvCacheType kvType;

    @Param({"64"})
    public int headDim;

    @Param({"3"})
    public int group;

    @Param({"512"})
    public int positions;

    private KvCache cache;
    private float[] queries;
    private float[] scores;
    private float[] keyScores;
    private float[] out;
    private float[] scratch;
    private float scale;

    @Setup(Level.Trial)
    public void setUp() {
        Random r = new Random(1);
        cache = KvCache.allocate(kvType, 1, positions, 1, headDim);
        float[] row = new float[headDim];
        for (int p = 0; p < positions; p++) {
            fill(r, row);
            cache.storeKey(0, p, row, 0);
            fill(r, row);
            cache.storeValue(0, p, row, 0);
        }
        float[] raw = new float[group * headDim];
        fill(r, raw);
        queries = new float[group * headDim];
        for (int j = 0; j < group; j++) {
            cache.prepareQuery(raw, j * headDim, queries, j * headDim);
        }
        scores = new float[group * positions];
        // Softmax-like weights, so the value pass sees what it sees in a forward pass.
        for (int i = 0; i < scores.length; i++) {
            scores[i] = (float) (r.nextDouble() * 2.0 / positions);
        }
        keyScores = new float[group * positions];
        out = new float[group * headDim];
        scratch = new float[group * cache.valueScratchSize()];
        scale = (float) (1 / Math.sqrt(headDim));
    }

    private static void fill(Random r, float[] a) {
        for (int i = 0; i < a.length; i++) {
            a[i] = (float) r.nextGaussian();
        }
    }

    @Benchmark
    public float keyScoresGroup() {
        cache.keyScoresGroup(0, 0, queries, 0, group, positions, scale, keyScores, 0, positions, true);
        return keyScores[positions - 1];
    }

    @Benchmark
    public float keyScoresPerHead() {
        for (int j = 0; j < group; j++) {
            cache.keyScores(0, 0, queries, j * headDim, positions, scale, keyScores, j * positions, true);
        }
        return keyScores[positions - 1];
    }

    @Benchmark
    public float weightedValuesGroup() {
        cache.weightedValuesGroup(0, 0, scores, 0, positions, group, positions, out, 0, scratch, 0, true);
        return out[headDim - 1];
    }

    @Benchmark
    public float weightedValuesPerHead() {
        for (int j = 0; j < group; j++) {
            cache.weightedValues(0, 0, scores, j * positions, positions, out, j * headDim, scratch,
                    j * cache.valueScratchSize(), true);
        }
        return out[headDim - 1];
    }
}
