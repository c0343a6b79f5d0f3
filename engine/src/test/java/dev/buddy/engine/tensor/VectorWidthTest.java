package dev.buddy.engine.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class VectorWidthTest {
    /** 512-bit kernels run only at W512 on a CPU with 512-bit vectors; a forced W512 elsewhere keeps 256-bit code. */
    @Test
    void native512OnlyAtW512OnA512BitCpu() {
        boolean cpu512 = VectorWidth.hardware() == VectorWidth.W512;
        assertEquals(cpu512, VectorWidth.W512.native512());
        for (VectorWidth w : new VectorWidth[] {VectorWidth.SCALAR, VectorWidth.W128, VectorWidth.W256}) {
            assertFalse(w.native512(), w.name());
        }
    }

    @Test
    void availableWidthsStopAtTheHardwareAndIncludeScalar() {
        assertTrue(VectorWidth.available().contains(VectorWidth.SCALAR));
        assertTrue(VectorWidth.available().contains(VectorWidth.hardware()));
        for (VectorWidth w : VectorWidth.available()) {
            assertTrue(w.bits() <= VectorWidth.hardware().bits(), w.name());
        }
    }

    @Test
    void fromBitsNamesTheBadValue() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> VectorWidth.fromBits(384));
        assertTrue(e.getMessage().contains("384"), e.getMessage());
        assertEquals(VectorWidth.W512, VectorWidth.fromBits(512));
        assertEquals(VectorWidth.SCALAR, VectorWidth.fromBits(0));
    }
}
