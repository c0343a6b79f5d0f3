package dev.buddy.router.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

class SkippedKvDemandTest {
    private static final int LAYERS = 5;

    /** Masks of one position each; a sequence is a context and its branches. */
    private record Sequence(List<boolean[]> context, List<List<boolean[]>> branches) {
    }

    @Test
    void aSlotIsNeededOnlyWhenTheBlockRunsLaterInTheSameSequence() {
        BlockUsage usage = new BlockUsage(3);
        usage.startSequence();
        usage.record(1, new boolean[] {true, false, false}); // both middle slots skipped
        usage.record(1, new boolean[] {true, true, false}); // block 1 runs: the slot before it is read
        usage.record(1, new boolean[] {true, false, false}); // nothing runs after these
        usage.startSequence();
        usage.record(2, new boolean[] {true, true, true}); // a fresh sequence reads nothing of the last one
        // 3 tokens x 3 blocks of the first sequence + 2 x 3: 5 skipped slots, 1 read
        assertEquals(5 / 15.0, usage.skippedKvFraction(), 1e-12);
        assertEquals(1 / 15.0, usage.neededKvFraction(), 1e-12);
    }

    @Test
    void aContextSlotIsNeededWhenAnyBranchRunsTheBlock() {
        BlockUsage usage = new BlockUsage(3);
        usage.startSequence();
        usage.record(2, new boolean[] {true, false, true}, 0);
        usage.startBranch();
        usage.record(1, new boolean[] {true, false, false}, 0);
        usage.startBranch();
        usage.record(1, new boolean[] {true, true, false}, 0);
        // context: 2 slots of block 1 (read by the second branch); branch 1: blocks 1 and 2 skipped, unread;
        // branch 2: block 2 skipped, unread
        assertEquals(5 / 12.0, usage.skippedKvFraction(), 1e-12);
        assertEquals(2 / 12.0, usage.neededKvFraction(), 1e-12);
    }

    @Test
    void readingTheCountMidSequenceChangesNothing() {
        BlockUsage usage = new BlockUsage(3);
        usage.startSequence();
        usage.record(2, new boolean[] {true, false, true});
        usage.startBranch();
        usage.record(1, new boolean[] {true, true, true});
        assertEquals(2 / 9.0, usage.neededKvFraction(), 1e-12, "the branch reads the context's two block-1 slots");
        usage.startBranch();
        usage.record(1, new boolean[] {true, true, true});
        assertEquals(2 / 12.0, usage.neededKvFraction(), 1e-12, "counted once, however many branches read them");
        assertEquals(2 / 12.0, usage.neededKvFraction(), 1e-12);
    }

    @Property(tries = 200)
    void countsWhatABruteForceScanOfLaterPositionsFinds(@ForAll @IntRange(min = 1, max = 6) int sequences,
            @ForAll long seed) {
        Random random = new Random(seed);
        List<Sequence> all = new ArrayList<>();
        for (int s = 0; s < sequences; s++) {
            List<boolean[]> context = masks(random, 1 + random.nextInt(6));
            List<List<boolean[]>> branches = new ArrayList<>();
            int count = random.nextInt(4);
            for (int b = 0; b < count; b++) {
                branches.add(masks(random, 1 + random.nextInt(5)));
            }
            all.add(new Sequence(context, branches));
        }
        BlockUsage usage = new BlockUsage(LAYERS);
        long tokens = 0;
        long skipped = 0;
        long needed = 0;
        for (Sequence s : all) {
            usage.startSequence();
            recordInCalls(usage, s.context(), random);
            for (List<boolean[]> branch : s.branches()) {
                usage.startBranch();
                recordInCalls(usage, branch, random);
            }
            tokens += s.context().size();
            for (int t = 0; t < s.context().size(); t++) {
                for (int l = 1; l < LAYERS; l++) {
                    if (!s.context().get(t)[l]) {
                        skipped++;
                        boolean later = runsAfter(s.context(), t, l);
                        for (List<boolean[]> branch : s.branches()) {
                            later |= runsAfter(branch, -1, l);
                        }
                        needed += later ? 1 : 0;
                    }
                }
            }
            for (List<boolean[]> branch : s.branches()) {
                tokens += branch.size();
                for (int t = 0; t < branch.size(); t++) {
                    for (int l = 1; l < LAYERS; l++) {
                        if (!branch.get(t)[l]) {
                            skipped++;
                            needed += runsAfter(branch, t, l) ? 1 : 0;
                        }
                    }
                }
            }
        }
        assertEquals(skipped / ((double) LAYERS * tokens), usage.skippedKvFraction(), 1e-12);
        assertEquals(needed / ((double) LAYERS * tokens), usage.neededKvFraction(), 1e-12);

        // The same sequences shared out between two counters (as parallel scorers do) and added up: the same counts.
        BlockUsage[] parts = {new BlockUsage(LAYERS), new BlockUsage(LAYERS)};
        for (Sequence s : all) {
            BlockUsage part = parts[random.nextInt(2)];
            part.startSequence();
            recordInCalls(part, s.context(), random);
            for (List<boolean[]> branch : s.branches()) {
                part.startBranch();
                recordInCalls(part, branch, random);
            }
        }
        BlockUsage.Counts first = parts[0].counts();
        BlockUsage.Counts second = parts[1].counts();
        parts[0].add(parts[1]);
        assertEquals(usage.tokens(), parts[0].tokens());
        assertEquals(usage.blocksRun(), parts[0].blocksRun());
        assertEquals(usage.skippedKvFraction(), parts[0].skippedKvFraction(), 0.0);
        assertEquals(usage.neededKvFraction(), parts[0].neededKvFraction(), 0.0);
        assertEquals(usage.distinctPaths(), parts[0].distinctPaths());
        assertEquals(usage.topPathShare(), parts[0].topPathShare(), 0.0);

        // Each part's counts, as an evaluation checkpoint keeps them, added to an empty usage: the same again.
        BlockUsage restored = new BlockUsage(LAYERS);
        restored.add(first);
        restored.add(second);
        assertEquals(usage.counts(), restored.counts());
        assertEquals(usage.executedFraction(), restored.executedFraction(), 0.0);
        assertEquals(usage.neededKvFraction(), restored.neededKvFraction(), 0.0);
        assertEquals(usage.topPathShare(), restored.topPathShare(), 0.0);
    }

    private static boolean runsAfter(List<boolean[]> positions, int t, int layer) {
        for (int u = t + 1; u < positions.size(); u++) {
            if (positions.get(u)[layer]) {
                return true;
            }
        }
        return false;
    }

    /** Records positions as the scorer's calls do: runs of equal masks may arrive as one multi-token call. */
    private static void recordInCalls(BlockUsage usage, List<boolean[]> positions, Random random) {
        int t = 0;
        while (t < positions.size()) {
            int run = 1;
            while (t + run < positions.size() && java.util.Arrays.equals(positions.get(t), positions.get(t + run))
                    && random.nextBoolean()) {
                run++;
            }
            usage.record(run, positions.get(t));
            t += run;
        }
    }

    private static List<boolean[]> masks(Random random, int count) {
        List<boolean[]> out = new ArrayList<>();
        for (int t = 0; t < count; t++) {
            boolean[] m = new boolean[LAYERS];
            m[0] = true;
            for (int l = 1; l < LAYERS; l++) {
                m[l] = random.nextInt(3) == 0;
            }
            // repeats make multi-token calls likely
            out.add(t > 0 && random.nextBoolean() ? out.get(t - 1).clone() : m);
        }
        return out;
    }
}
