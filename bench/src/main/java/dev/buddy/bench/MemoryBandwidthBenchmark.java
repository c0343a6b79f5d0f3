package dev.buddy.bench;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
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
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import dev.buddy.engine.tensor.Parallel;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The roofline for decode: how fast this machine streams a large off-heap buffer (far bigger than the last-level
 * cache) into vector registers, on one thread and on all of them, with the same thread pool the kernels use. Decode
 * matvecs read every weight once per token, so no kernel can beat this; {@link BenchReport} shows each kernel's
 * fraction of it.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class MemoryBandwidthBenchmark {
    private static final VectorSpecies<Float> SPECIES = FloatVector.SPECIES_PREFERRED;
    /** Each parallel task sums whole blocks of this many bytes. */
    private static final long BLOCK_BYTES = 1 << 20;

    /** Buffer size; 512 MiB is 16x a 32 MiB L3. */
    @Param({"512"})
    public int sizeMiB;

    @Param({"1", "max"})
    public String threads;

    private Arena arena;
    private MemorySegment data;
    private Parallel pool;
    private float[] blockSums;
    private Parallel.RangeTask sumBlocks;

    /** Bytes one {@link #read} streams. */
    static long bytesPerOperation(int sizeMiB) {
        return (long) sizeMiB << 20;
    }

    @Setup(Level.Trial)
    public void setUp() {
        arena = Arena.ofShared();
        data = arena.allocate(bytesPerOperation(sizeMiB), 64);
        // Touch every page with non-zero floats, so the reads hit real, distinct memory.
        for (long i = 0; i < data.byteSize(); i += Float.BYTES) {
            data.set(ValueLayout.JAVA_FLOAT_UNALIGNED, i, (i >>> 2) % 1024);
        }
        pool = new Parallel(ThreadCount.parse(threads));
        blockSums = new float[(int) (data.byteSize() / BLOCK_BYTES)];
        sumBlocks = (from, to) -> {
            for (int b = from; b < to; b++) {
                blockSums[b] = sum(data, b * BLOCK_BYTES, BLOCK_BYTES);
            }
        };
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        pool.close();
        arena.close();
    }

    /** Reads the whole buffer once; returns the sum so the reads cannot be optimised away. */
    @Benchmark
    public float read() {
        pool.forRange(blockSums.length, sumBlocks);
        float total = 0;
        for (float s : blockSums) {
            total += s;
        }
        return total;
    }

    /** Four independent accumulators keep the loads, not the add latency, the bottleneck. */
    private static float sum(MemorySegment segment, long offset, long bytes) {
        FloatVector a0 = FloatVector.zero(SPECIES);
        FloatVector a1 = FloatVector.zero(SPECIES);
        FloatVector a2 = FloatVector.zero(SPECIES);
        FloatVector a3 = FloatVector.zero(SPECIES);
        long step = SPECIES.vectorByteSize();
        long end = offset + bytes;
        for (long p = offset; p < end; p += 4 * step) {
            a0 = a0.add(FloatVector.fromMemorySegment(SPECIES, segment, p, ByteOrder.LITTLE_ENDIAN));
            a1 = a1.add(FloatVector.fromMemorySegment(SPECIES, segment, p + step, ByteOrder.LITTLE_ENDIAN));
            a2 = a2.add(FloatVector.fromMemorySegment(SPECIES, segment, p + 2 * step, ByteOrder.LITTLE_ENDIAN));
            a3 = a3.add(FloatVector.fromMemorySegment(SPECIES, segment, p + 3 * step, ByteOrder.LITTLE_ENDIAN));
        }
        return a0.add(a1).add(a2.add(a3)).reduceLanes(VectorOperators.ADD);
    }
}
