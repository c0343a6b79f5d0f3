package dev.buddy.bench;

import java.lang.foreign.Arena;

import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

import dev.buddy.engine.tensor.Parallel;
import dev.buddy.engine.tensor.WeightMatrix;
import dev.buddy.gguf.GgmlType;

/**
 * One weight format and matrix shape, held as enough copies that together they exceed the last-level cache many
 * times over: each call uses the next copy, so weights stream from DRAM as they do in a real forward pass (where every
 * matrix is read once per token), instead of being served from L3. {@link #workingSetMiB} 0 keeps one copy instead.
 */
@State(Scope.Benchmark)
public class KernelState {

    @Param({"F32", "F16", "BF16", "Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q4_K", "Q5_K", "Q6_K"})
    public String format;

    /** rows x cols: Llama-3.2-1B's ffn_gate/ffn_up (8192 rows of 2048). */
    @Param({"8192x2048"})
    public String shape;

    @Param({"1", "max"})
    public String threads;

    /**
     * MiB of copies cycled through: the default 256 (8x a 32 MiB L3) streams the weights from DRAM; 0 keeps one copy,
     * which a small {@link #shape} (e.g. {@code 256x2048}) keeps in L2, so the kernel's compute alone is timed.
     */
    @Param({"256"})
    public int workingSetMiB;

    Arena arena;
    WeightMatrix[] copies;
    Parallel pool;
    int rows;
    int cols;
    private int next;

    @Setup(Level.Trial)
    public void setUp() {
        GgmlType type = GgmlType.valueOf(format);
        rows = rows(shape);
        cols = cols(shape);
        arena = Arena.ofShared();
        long matrixBytes = type.byteSize((long) rows * cols);
        long workingSet = (long) workingSetMiB << 20;
        int count = (int) Math.max(1, (workingSet + matrixBytes - 1) / matrixBytes);
        copies = new WeightMatrix[count];
        var first = BenchWeights.matrix(arena, type, rows, cols, 1);
        for (int i = 0; i < count; i++) {
            var data = i == 0 ? first : arena.allocate(first.byteSize(), 64).copyFrom(first);
            copies[i] = WeightMatrix.of("bench." + i, type, new long[] {cols, rows}, data);
        }
        pool = new Parallel(ThreadCount.parse(threads));
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        pool.close();
        arena.close();
    }

    /** The next copy of the matrix, round-robin. */
    WeightMatrix nextMatrix() {
        WeightMatrix m = copies[next];
        next = next + 1 == copies.length ? 0 : next + 1;
        return m;
    }

    static int rows(String shape) {
        return Integer.parseInt(shape.substring(0, shape.indexOf('x')));
    }

    static int cols(String shape) {
        return Integer.parseInt(shape.substring(shape.indexOf('x') + 1));
    }
}
