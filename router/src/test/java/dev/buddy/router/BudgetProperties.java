package dev.buddy.router;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.math.BigDecimal;
import java.math.RoundingMode;

import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.DoubleRange;
import net.jqwik.api.constraints.IntRange;

class BudgetProperties {

    /** The paper's k = round(b·L) − 2, clamped to [1, L−2], rounding half up exactly with BigDecimal. */
    private static int referenceK(double b, int layers) {
        int k = new BigDecimal(b * layers).setScale(0, RoundingMode.HALF_UP).intValueExact() - 2;
        return Math.max(1, Math.min(layers - 2, k));
    }

    @Property(tries = 2000)
    void fractionGivesClampedRoundedK(@ForAll @IntRange(min = 3, max = 40) int layers,
                                      @ForAll @DoubleRange(min = 0.0, minIncluded = false, max = 1.0) double b) {
        int k = Budget.fraction(b).middleBlocks(layers);
        assertEquals(referenceK(b, layers), k);
        assertTrue(k >= 1 && k <= layers - 2);
        assertEquals(k + 2, Budget.fraction(b).executedBlocks(layers));
    }

    @Property(tries = 2000)
    void kNeverDecreasesAsBudgetGrows(@ForAll @IntRange(min = 3, max = 40) int layers,
                                      @ForAll @DoubleRange(min = 0.0, minIncluded = false, max = 1.0) double b1,
                                      @ForAll @DoubleRange(min = 0.0, minIncluded = false, max = 1.0) double b2) {
        double lo = Math.min(b1, b2);
        double hi = Math.max(b1, b2);
        assertTrue(Budget.fraction(lo).middleBlocks(layers) <= Budget.fraction(hi).middleBlocks(layers));
    }

    @Property
    void fullBudgetRunsEveryBlock(@ForAll @IntRange(min = 3, max = 40) int layers) {
        assertEquals(layers - 2, Budget.fraction(1.0).middleBlocks(layers));
        assertEquals(layers - 2, Budget.full().middleBlocks(layers));
    }

    @Property
    void dropGivesLMinus2MinusN(@ForAll @IntRange(min = 3, max = 40) int layers, @ForAll @IntRange(max = 40) int n) {
        if (n <= layers - 3) {
            assertEquals(layers - 2 - n, Budget.drop(n).middleBlocks(layers));
        } else {
            InvalidBudgetException e = assertThrows(InvalidBudgetException.class,
                    () -> Budget.drop(n).middleBlocks(layers));
            assertTrue(e.getMessage().contains("0.." + (layers - 3)), e.getMessage());
        }
    }

    @Property
    void fractionOfKMapsBackToK(@ForAll @IntRange(min = 3, max = 40) int layers, @ForAll @IntRange(min = 1) int k) {
        int kk = 1 + (k - 1) % (layers - 2);
        double b = Budget.fractionForMiddleBlocks(kk, layers);
        assertEquals((kk + 2) / (double) layers, b);
        assertEquals(kk, Budget.fraction(b).middleBlocks(layers));
    }

    @Example
    void invalidBudgetsAreTypedErrors() {
        for (double b : new double[] {0.0, -0.1, 1.0000001, 2.0, Double.NaN, Double.POSITIVE_INFINITY}) {
            InvalidBudgetException e = assertThrows(InvalidBudgetException.class, () -> Budget.fraction(b));
            assertTrue(e.getMessage().contains("(0, 1]"), e.getMessage());
        }
        assertThrows(InvalidBudgetException.class, () -> Budget.drop(-1));
        assertThrows(InvalidBudgetException.class, () -> Budget.fraction(0.5).middleBlocks(2));
        assertThrows(InvalidBudgetException.class, () -> Budget.fractionForMiddleBlocks(0, 10));
        assertThrows(InvalidBudgetException.class, () -> Budget.fractionForMiddleBlocks(9, 10));
    }

    @Example
    void rerouteParsing() {
        assertEquals(Reroute.everyStep(), Reroute.parse("every-step"));
        assertEquals(Reroute.every(4), Reroute.parse("every-4"));
        assertEquals(Reroute.everyStep(), Reroute.parse("every-1"));
        assertEquals(Reroute.reuse(), Reroute.parse("REUSE"));
        for (String bad : new String[] {"every-0", "every-x", "sometimes", ""}) {
            assertThrows(InvalidRouterOptionException.class, () -> Reroute.parse(bad));
        }
        assertThrows(InvalidRouterOptionException.class, () -> Pooling.fromFileName("median"));
        assertThrows(InvalidRouterOptionException.class, () -> FeatureSource.fromFileName("q"));
    }
}
