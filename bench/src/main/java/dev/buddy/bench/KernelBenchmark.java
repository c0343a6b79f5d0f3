package dev.buddy.bench;

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

/**
 * Every weight kernel in both of its uses, parameterised by format (see {@link KernelState}):
 * <ul>
 *   <li>{@link #decode}: one matvec, the decode GEMV (bandwidth-bound);</li>
 *   <li>{@link #prefill}: one matmul over a tile of {@code tokens} activations, the prefill GEMM (compute-bound).</li>
 * </ul>
 * Both include converting the activations to the kernel's input format (Q8_0/Q8_1/Q8_K where llama.cpp does),
 * since a forward pass pays that too. {@link BenchReport} turns operations per second into GB/s of weights and
 * GFLOP/s.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class KernelBenchmark {
    /** Activations per prefill tile. */
    @Param({"64"})
    public int tokens;

    private float[] decodeInput;
    private float[] decodeOutput;
    private float[] prefillInput;
    private float[] prefillOutput;

    @Setup(Level.Trial)
    public void setUp(KernelState kernel) {
        decodeInput = BenchWeights.activations(kernel.cols, 2);
        decodeOutput = new float[kernel.rows];
        prefillInput = BenchWeights.activations(tokens * kernel.cols, 3);
        prefillOutput = new float[tokens * kernel.rows];
    }

    @Benchmark
    public float decode(KernelState kernel) {
        kernel.nextMatrix().matvec(decodeInput, 0, decodeOutput, 0, kernel.pool);
        return decodeOutput[0];
    }

    @Benchmark
    public float prefill(KernelState kernel) {
        kernel.nextMatrix().matmul(prefillInput, tokens, prefillOutput, kernel.pool);
        return prefillOutput[0];
    }
}
