package dev.buddy.router;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.SplittableRandom;

import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;

/** The weighted mask set against a plain map from mask text to summed weight, through growth and clearing. */
class MaskSetProperties {
    @Property(tries = 60)
    void countsAndTopShareMatchAPlainMap(@ForAll long seed, @ForAll @IntRange(min = 1, max = 130) int layers,
                                         @ForAll @IntRange(min = 1, max = 300) int adds,
                                         @ForAll @IntRange(min = 1, max = 80) int poolSize) {
        SplittableRandom random = new SplittableRandom(seed);
        boolean[][] pool = randomMasks(random, poolSize, layers);
        MaskSet set = new MaskSet(layers);
        for (int round = 0; round < 2; round++) {
            Map<String, Long> reference = new HashMap<>();
            long total = 0;
            for (int a = 0; a < adds; a++) {
                boolean[] mask = pool[random.nextInt(poolSize)];
                int offset = random.nextInt(3);
                boolean[] padded = new boolean[offset + layers];
                System.arraycopy(mask, 0, padded, offset, layers);
                long weight = 1 + random.nextInt(50);
                boolean isNew = !reference.containsKey(Arrays.toString(mask));
                reference.merge(Arrays.toString(mask), weight, Long::sum);
                total += weight;
                assertEquals(isNew, set.add(padded, offset, weight));
            }
            assertEquals(reference.size(), set.size());
            long top = reference.values().stream().mapToLong(Long::longValue).max().orElseThrow();
            assertEquals(top / (double) total, set.topShare(), 0.0);
            set.clear();
            assertEquals(0, set.size());
            assertEquals(Double.NaN, set.topShare());
        }
    }

    @Property(tries = 60)
    void twoSetsAddedTogetherAreTheSetOfAllTheirMasks(@ForAll long seed,
            @ForAll @IntRange(min = 1, max = 130) int layers, @ForAll @IntRange(min = 0, max = 200) int adds,
            @ForAll @IntRange(min = 1, max = 60) int poolSize) {
        SplittableRandom random = new SplittableRandom(seed);
        boolean[][] pool = randomMasks(random, poolSize, layers);
        MaskSet all = new MaskSet(layers);
        MaskSet[] halves = {new MaskSet(layers), new MaskSet(layers)};
        for (int a = 0; a < adds; a++) {
            boolean[] mask = pool[random.nextInt(poolSize)];
            long weight = 1 + random.nextInt(50);
            all.add(mask, 0, weight);
            halves[random.nextInt(2)].add(mask, 0, weight);
        }
        halves[0].addAll(halves[1]);
        assertEquals(all.size(), halves[0].size());
        assertEquals(all.topShare(), halves[0].topShare(), 0.0);
        // every mask of the union is already there: adding them again reports none as new
        for (boolean[] mask : pool) {
            assertEquals(all.add(mask, 0, 1), halves[0].add(mask, 0, 1));
        }
    }

    private static boolean[][] randomMasks(SplittableRandom random, int count, int layers) {
        boolean[][] masks = new boolean[count][layers];
        for (boolean[] mask : masks) {
            for (int i = 0; i < layers; i++) {
                mask[i] = random.nextBoolean();
            }
        }
        return masks;
    }
}
