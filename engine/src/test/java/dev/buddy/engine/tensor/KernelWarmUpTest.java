package dev.buddy.engine.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.buddy.gguf.GgmlType;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class KernelWarmUpTest {

    private static KernelWarmUp.Matrix matrix(String name, GgmlType type, int rows, int cols, Arena arena) {
        MemorySegment data = TestTensors.randomTensor(type, rows, cols, 0, new Random(name.hashCode()), arena);
        return new KernelWarmUp.Matrix(name, type, cols, rows, data);
    }

    @Test
    void warmsTheFirstMatrixOfEachComputableFormatThatHasSixteenRows() {
        try (Arena arena = Arena.ofConfined()) {
            KernelWarmUp.Matrix shortQ8 = matrix("short", GgmlType.Q8_0, 8, 64, arena);
            KernelWarmUp.Matrix q4k = matrix("q4k", GgmlType.Q4_K, 16, 256, arena);
            KernelWarmUp.Matrix q6k = matrix("q6k", GgmlType.Q6_K, 32, 512, arena);
            KernelWarmUp.Matrix secondQ4k = matrix("q4k-again", GgmlType.Q4_K, 32, 256, arena);
            KernelWarmUp.Matrix q8 = matrix("q8", GgmlType.Q8_0, 16, 64, arena);
            // a Q2_K tensor (no kernel) and one whose data is shorter than its shape: left to the loader's checks
            KernelWarmUp.Matrix q2k = new KernelWarmUp.Matrix("q2k", GgmlType.Q2_K, 256, 16,
                    arena.allocate(16 * GgmlType.Q2_K.byteSize(256)));
            KernelWarmUp.Matrix truncated = new KernelWarmUp.Matrix("cut", GgmlType.Q4_0, 64, 16,
                    arena.allocate(15 * GgmlType.Q4_0.byteSize(64)));
            List<KernelWarmUp.Matrix> chosen = KernelWarmUp.onePerFormat(
                    List.of(shortQ8, q2k, truncated, q4k, q6k, secondQ4k, q8));
            assertEquals(List.of("q4k", "q6k", "q8"), chosen.stream().map(KernelWarmUp.Matrix::name).toList());
        }
    }

    @Test
    void trimsTheCHeapWhereGlibcAndNativeAccessAllowIt() {
        assumeTrue(KernelWarmUp.class.getModule().isNativeAccessEnabled(), "tests run without native access");
        assumeTrue(System.getProperty("os.name").startsWith("Linux")
                && java.lang.foreign.Linker.nativeLinker().defaultLookup().find("malloc_trim").isPresent(),
                "not glibc: there is no malloc_trim to call");
        assertTrue(KernelWarmUp.trimNativeHeap());
        assertTrue(KernelWarmUp.trimNativeHeap(), "a second trim, with nothing to release, still runs");
    }
}
