package dev.buddy.engine.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.util.Locale;
import java.util.Optional;

import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.FloatRange;
import org.junit.jupiter.api.Test;

/**
 * {@link GlibcTrig} against the C library's own {@code sinf}/{@code cosf}, called through the FFM API, bit for bit.
 * Runs where that library is glibc 2.28-2.40 on x86-64 (the generation whose algorithm GlibcTrig reproduces, and the
 * one llama.cpp's bundled build calls on Linux); skipped with the reason elsewhere.
 */
class GlibcTrigProperties {
    private static final Linker LINKER = Linker.nativeLinker();
    private static final MethodHandle SINF = libm("sinf");
    private static final MethodHandle COSF = libm("cosf");
    private static final String GLIBC = glibcVersion();

    @Test
    void everyFloatAtAStrideMatchesTheCLibrary() throws Throwable {
        requireGlibc();
        // Every 61st bit pattern of the positive and negative finite floats: all exponents, both reductions, ~70M
        // values; with -Dbuddy.trig.exhaustive=true every one of the 2^32 patterns (all 4,278,190,080 finite floats
        // agreed with glibc 2.36 in 150 s).
        int stride = Boolean.getBoolean("buddy.trig.exhaustive") ? 1 : 61;
        long checked = 0;
        for (long bits = 0; bits <= 0xffffffffL; bits += stride) {
            float y = Float.intBitsToFloat((int) bits);
            if (!Float.isFinite(y)) {
                continue;
            }
            check(y);
            checked++;
        }
        System.out.println("GlibcTrig: " + checked + " floats agree with " + GLIBC + "'s sinf/cosf");
    }

    /** The angles RoPE takes: position times a power of the frequency scale, from 0 to long contexts. */
    @Property(tries = 3000)
    void ropeAnglesMatchTheCLibrary(@ForAll @FloatRange(min = 0, max = 131072) float position,
            @ForAll @FloatRange(min = 0.5f, max = 1.0f) float thetaScale) throws Throwable {
        requireGlibc();
        float theta = position;
        for (int i = 0; i < 64; i++) {
            check(theta);
            theta *= thetaScale;
        }
    }

    @Property(tries = 3000)
    void arbitraryFloatsMatchTheCLibrary(@ForAll float y) throws Throwable {
        requireGlibc();
        if (Float.isFinite(y)) {
            check(y);
        }
    }

    @Test
    void nonFiniteInputsGiveNaN() {
        assertEquals(Float.NaN, GlibcTrig.sin(Float.POSITIVE_INFINITY));
        assertEquals(Float.NaN, GlibcTrig.cos(Float.NEGATIVE_INFINITY));
        assertEquals(Float.NaN, GlibcTrig.sin(Float.NaN));
    }

    private static void check(float y) throws Throwable {
        float sin = (float) SINF.invokeExact(y);
        float cos = (float) COSF.invokeExact(y);
        if (Float.floatToRawIntBits(sin) != Float.floatToRawIntBits(GlibcTrig.sin(y))) {
            assertEquals(Float.floatToRawIntBits(sin), Float.floatToRawIntBits(GlibcTrig.sin(y)),
                    "sinf(" + y + " = 0x" + Integer.toHexString(Float.floatToRawIntBits(y)) + ")");
        }
        if (Float.floatToRawIntBits(cos) != Float.floatToRawIntBits(GlibcTrig.cos(y))) {
            assertEquals(Float.floatToRawIntBits(cos), Float.floatToRawIntBits(GlibcTrig.cos(y)),
                    "cosf(" + y + " = 0x" + Integer.toHexString(Float.floatToRawIntBits(y)) + ")");
        }
    }

    private static void requireGlibc() {
        assumeTrue(SINF != null && COSF != null, "no sinf/cosf in the C library's symbols");
        assumeTrue(GLIBC != null, "the C library is not glibc");
        String arch = System.getProperty("os.arch").toLowerCase(Locale.ROOT);
        assumeTrue(arch.equals("amd64") || arch.equals("x86_64"), "glibc's sinf/cosf are compared on x86-64 only");
        String[] parts = GLIBC.split("\\.");
        int minor = Integer.parseInt(parts[1].replaceAll("[^0-9].*", ""));
        assumeTrue(parts[0].equals("2") && minor >= 28 && minor <= 40,
                "glibc " + GLIBC + " is outside 2.28-2.40, whose sinf/cosf GlibcTrig reproduces");
    }

    private static MethodHandle libm(String name) {
        Optional<MemorySegment> symbol = LINKER.defaultLookup().find(name);
        return symbol.map(s -> LINKER.downcallHandle(s,
                FunctionDescriptor.of(ValueLayout.JAVA_FLOAT, ValueLayout.JAVA_FLOAT))).orElse(null);
    }

    private static String glibcVersion() {
        Optional<MemorySegment> symbol = LINKER.defaultLookup().find("gnu_get_libc_version");
        if (symbol.isEmpty()) {
            return null;
        }
        try {
            MemorySegment text = (MemorySegment) LINKER.downcallHandle(symbol.get(),
                    FunctionDescriptor.of(ValueLayout.ADDRESS)).invokeExact();
            return text.reinterpret(32).getString(0);
        } catch (Throwable t) {
            return null;
        }
    }
}
