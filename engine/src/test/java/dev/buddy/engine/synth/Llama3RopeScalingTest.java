package dev.buddy.engine.synth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/**
 * Llama 3.2's rope_freqs: unscaled for wavelengths under 8192/4 positions, divided by 32 beyond 8192/1, smoothly
 * between (Meta's apply_scaling in llama/model.py).
 */
class Llama3RopeScalingTest {
    @Test
    void factorsFollowTheWavelengthBands() {
        Llama3RopeScaling scaling = Llama3RopeScaling.llama32();
        float[] factors = scaling.frequencyFactors(64, 500000f);
        assertEquals(32, factors.length);
        for (int i = 0; i < factors.length; i++) {
            double wavelength = 2 * Math.PI * Math.pow(500000.0, 2.0 * i / 64);
            if (wavelength < 8192 / 4.0) {
                assertEquals(1f, factors[i], "pair " + i);
            } else if (wavelength > 8192) {
                assertEquals(32f, factors[i], "pair " + i);
            } else {
                assertTrue(factors[i] > 1 && factors[i] < 32, "pair " + i + ": " + factors[i]);
            }
            if (i > 0) {
                assertTrue(factors[i] >= factors[i - 1], "non-decreasing at " + i);
            }
        }
        assertEquals(1f, factors[0]);
        assertEquals(32f, factors[31]);
    }
}
