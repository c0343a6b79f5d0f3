package dev.buddy.router.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;

import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link BudgetTable}'s file: every bit survives a round trip, and a bad file is an error naming its line. */
class BudgetTableTest {
    private static final BudgetTable.Identity ID = new BudgetTable.Identity("fp0123", "83463bb1",
            "data.jsonl (alpaca, 3 examples)", 256);

    @TempDir
    Path dir;

    private static BudgetTable random(long seed, int rows, int layers) {
        SplittableRandom random = new SplittableRandom(seed);
        int[] examples = new int[rows];
        double[][] ce = new double[rows][layers - 2];
        for (int p = 0; p < rows; p++) {
            examples[p] = p * 3 + random.nextInt(3);
            for (int a = 0; a < layers - 2; a++) {
                ce[p][a] = random.nextDouble() * 12;
            }
        }
        return new BudgetTable(ID, layers, examples, ce);
    }

    @Property(tries = 20)
    void aTableReadBackIsBitForBitTheOneWritten(@ForAll long seed, @ForAll @IntRange(min = 1, max = 12) int rows,
                                               @ForAll @IntRange(min = 3, max = 40) int layers) throws IOException {
        Path file = Files.createTempFile("table", ".tsv");
        try {
            BudgetTable t = random(seed, rows, layers);
            t.write(file);
            BudgetTable back = BudgetTable.read(file);
            assertEquals(ID, back.identity());
            assertEquals(layers, back.layers());
            assertArrayEquals(t.examples(), back.examples());
            for (int p = 0; p < rows; p++) {
                assertArrayEquals(t.crossEntropy()[p], back.crossEntropy()[p], 0.0);
            }
        } finally {
            Files.deleteIfExists(file);
        }
    }

    @Test
    void rewardsWeighTheCrossEntropyAndTheBudget() {
        BudgetTable t = new BudgetTable(ID, 5, new int[] {0}, new double[][] {{3.0, 2.0, 1.5}});
        double[] r = t.rewards(5.0, 30.0).rewards()[0];
        for (int k = 1; k <= 3; k++) {
            assertEquals(-5.0 * t.crossEntropy()[0][k - 1] - 30.0 * (k + 2) / 5.0, r[k - 1], 1e-12);
        }
    }

    private String errorOf(String text) throws IOException {
        Path file = dir.resolve("bad.tsv");
        Files.writeString(file, text);
        return assertThrows(BudgetTableException.class, () -> BudgetTable.read(file)).getMessage();
    }

    @Test
    void aBadFileIsAnErrorNamingItsLine() throws IOException {
        String head = BudgetTable.MAGIC + "\n# base fp\n# router r\n# data d | max-tokens 256\nexample\tce_k1\tce_k2\n";
        assertTrue(errorOf("example\tce_k1\n0\t1.0\n").contains("is not a budget table"));
        assertTrue(errorOf(head + "0\t1.0\t2.0\n1\t1.0\n").contains("line 7: 2 columns, expected 3"));
        assertTrue(errorOf(head + "0\t1.0\tx\n").contains("line 6: 'x' is not a number"));
        assertTrue(errorOf(head + "0\t1.0\tNaN\n").contains("line 6: cross-entropy NaN"));
        assertTrue(errorOf(head + "-1\t1.0\t2.0\n").contains("line 6: negative example index"));
        assertTrue(errorOf(head.replace(" | max-tokens 256", "")).contains("line 4"));
        assertTrue(errorOf(head.replace("# router r", "router r")).contains("line 3"));
    }

    @Test
    void aTableOfAnotherRunIsRefused() throws IOException {
        Path file = dir.resolve("t.tsv");
        random(1, 2, 5).write(file);
        BudgetTable t = BudgetTable.read(file);
        t.requireIdentity(file, ID);
        assertTrue(assertThrows(BudgetTableException.class, () -> t.requireIdentity(file,
                new BudgetTable.Identity("fp0123", "other", ID.data(), 256))).getMessage().contains("different router"));
        assertTrue(assertThrows(BudgetTableException.class, () -> t.requireIdentity(file,
                new BudgetTable.Identity("fp9", ID.router(), ID.data(), 256))).getMessage().contains("base model"));
        assertTrue(assertThrows(BudgetTableException.class, () -> t.requireIdentity(file,
                new BudgetTable.Identity("fp0123", ID.router(), ID.data(), 128))).getMessage().contains("cut to 128"));
    }
}
