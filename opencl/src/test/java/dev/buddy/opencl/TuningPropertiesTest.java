package dev.buddy.opencl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Kernel-shape properties: defaults when unset, the value when valid, a typed one-line error naming them when not. */
class TuningPropertiesTest {
    private static final String[] NAMES = {"buddy.opencl.prefill.rows", "buddy.opencl.prefill.tokens",
        "buddy.opencl.decode.rows"};

    @AfterEach
    void clear() {
        for (String n : NAMES) {
            System.clearProperty(n);
        }
    }

    @Test
    void unsetPropertiesGiveTheDefaults() {
        assertEquals(PrefillTile.DEFAULT, PrefillTile.fromSystemProperties());
    }

    @Test
    void validPropertiesAreTaken() {
        System.setProperty("buddy.opencl.prefill.rows", "4");
        System.setProperty("buddy.opencl.prefill.tokens", " 8 ");
        assertEquals(new PrefillTile(4, 8), PrefillTile.fromSystemProperties());
    }

    @Test
    void badValuesNameThePropertyInATypedException() {
        System.setProperty("buddy.opencl.prefill.tokens", "lots");
        TuningException e = assertThrows(TuningException.class, PrefillTile::fromSystemProperties);
        assertEquals("-Dbuddy.opencl.prefill.tokens=lots is not an integer", e.getMessage());

        System.setProperty("buddy.opencl.decode.rows", "3"); // checked before the device is asked anything
        e = assertThrows(TuningException.class, () -> DecodeRows.forDevice(null));
        assertTrue(e.getMessage().startsWith("-Dbuddy.opencl.decode.rows: decode rows per work-group must be"),
                e.getMessage());
        System.setProperty("buddy.opencl.decode.rows", "8");
        assertEquals(new DecodeRows(8), DecodeRows.forDevice(null));

        System.setProperty("buddy.opencl.prefill.tokens", "17");
        e = assertThrows(TuningException.class, PrefillTile::fromSystemProperties);
        assertTrue(e.getMessage().startsWith("-Dbuddy.opencl.prefill.rows/.tokens: prefill tile must be"),
                e.getMessage());
    }
}
