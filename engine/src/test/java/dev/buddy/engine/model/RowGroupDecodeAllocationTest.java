package dev.buddy.engine.model;

import static org.junit.jupiter.api.Assertions.fail;

import dev.buddy.engine.e2e.SyntheticModels;
import dev.buddy.engine.kv.KvCacheType;
import dev.buddy.engine.tensor.Parallel;
import dev.buddy.engine.tensor.VectorWidth;
import dev.buddy.gguf.GgmlType;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Q4_0 matrices of whole 8-row groups run the row-group kernels (in 16-row groups on CPUs with 512-bit vectors), and
 * so do Q4_1, Q4_K and (16-row groups) Q8_0 and Q6_K ones on CPUs with 512-bit vectors; decoding through them allocates nothing per token at this machine's width, as
 * {@link ForwardPassTest#decodingAllocatesNothingPerToken} checks for the scalar kernels and
 * {@link PerTokenPlanProperties} for Q8_0. Tagged {@code allocation}: a JVM of its own with the launcher's -Xbatch.
 */
class RowGroupDecodeAllocationTest {
    private static final int CONTEXT = 128;
    private static final int TOKENS_PER_WINDOW = 40;

    @ParameterizedTest(name = "{0}")
    @EnumSource(value = GgmlType.class, names = {"Q4_0", "Q4_1", "Q4_K", "Q8_0", "Q6_K"})
    @Tag("allocation")
    void rowGroupDecodeAllocatesNothingPerToken(GgmlType type) throws IOException {
        // Q4_K has row groups only with 512-bit vectors; its two-row 256-bit kernel is known to allocate when C2
        // inlines it late (BENCHMARKS.md, "two modes"), which this test does not cover
        Assumptions.assumeTrue(type == GgmlType.Q4_0 || type == GgmlType.Q4_1 || VectorWidth.preferred().native512(),
                type + " row groups need a CPU with 512-bit vectors");
        var threads = (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
        long thread = Thread.currentThread().threadId();
        Path file = SyntheticModels.write(SyntheticModels.llama(type),
                Files.createTempFile("row-groups", ".gguf"));
        try (Model model = Model.load(file); Parallel single = new Parallel(1)) {
            Transformer tf = new Transformer(model, single);
            InferenceState s = tf.newState(CONTEXT, KvCacheType.F16, 8, SkippedKvPolicy.MASK);
            int[] one = {1};
            // warm up until C2 has compiled the kernels (their Java fallbacks allocate a vector per operation), then
            // take the fewest bytes of up to three windows: a recompilation can still allocate in one of them
            long allocated = Long.MAX_VALUE;
            for (int round = 0; round < 60 && allocated >= TOKENS_PER_WINDOW; round++) {
                s.reset();
                long before = threads.getThreadAllocatedBytes(thread);
                for (int p = 0; p < TOKENS_PER_WINDOW; p++) {
                    float[] logits = tf.forward(s, one, 0, p, 1, LayerPlanner.ALL_BLOCKS, true);
                    one[0] = Math.floorMod(Float.floatToRawIntBits(logits[p % logits.length]), 200) + 1;
                }
                allocated = round >= 4 ? threads.getThreadAllocatedBytes(thread) - before : Long.MAX_VALUE;
            }
            if (allocated >= TOKENS_PER_WINDOW) {
                InferenceState state = s;
                fail(allocated + " bytes over " + TOKENS_PER_WINDOW + " " + type + " tokens; allocated at "
                        + AllocationSites.top(() -> {
                            state.reset();
                            for (int p = 0; p < TOKENS_PER_WINDOW; p++) {
                                tf.forward(state, one, 0, p, 1, LayerPlanner.ALL_BLOCKS, true);
                            }
                        }));
            }
        } finally {
            Files.deleteIfExists(file);
        }
    }
}
