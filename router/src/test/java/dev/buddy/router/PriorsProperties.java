package dev.buddy.router;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;

import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;

class PriorsProperties {

    @Property(tries = 200)
    void normalisedPriorIsStandardAndOrderPreserving(@ForAll @IntRange(min = 2, max = 40) int n,
                                                     @ForAll boolean heavyTail,
                                                     @ForAll long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        double[] raw = new double[n];
        for (int i = 0; i < n; i++) {
            // Heavy-tailed, with repeats, as ΔPPL values are.
            raw[i] = random.nextInt(4) == 0 ? random.nextInt(3) : Math.exp(random.nextGaussian() * 3);
        }
        float[] p = Priors.normalize(raw, heavyTail);
        double mean = 0;
        for (float v : p) {
            mean += v;
        }
        mean /= n;
        double var = 0;
        for (float v : p) {
            var += (v - mean) * (v - mean);
        }
        assertEquals(0, mean, 1e-5);
        boolean allEqual = java.util.Arrays.stream(raw).distinct().count() == 1;
        assertEquals(allEqual ? 0 : 1, Math.sqrt(var / n), 1e-4);
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                if (raw[i] < raw[j]) {
                    assertTrue(p[i] < p[j], "order kept: " + i + " vs " + j);
                } else if (raw[i] == raw[j]) {
                    assertEquals(p[i], p[j], "ties share a value");
                }
            }
        }
    }
}
