package dev.buddy.router.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link TokenFitFile}: what is written is read back exactly, files of several runs join in order, and a file that is
 * not one, is cut short, carries trailing bytes or claims absurd counts is a typed one-line error.
 */
class TokenFitFileTest {
    @TempDir
    Path dir;

    private static TokenFitFile.Data data(long seed, double budget, int count, int width) {
        TokenRouterFit.Tokens tokens = TokenRouterFitProperties.planted(new SplittableRandom(seed), count, width);
        return new TokenFitFile.Data(tokens, new double[] {budget}, new int[] {count});
    }

    private static void assertSame(TokenFitFile.Data expected, TokenFitFile.Data actual) {
        assertArrayEquals(expected.budgets(), actual.budgets());
        assertArrayEquals(expected.counts(), actual.counts());
        TokenRouterFit.Tokens e = expected.tokens();
        TokenRouterFit.Tokens a = actual.tokens();
        assertEquals(e.width(), a.width());
        assertArrayEquals(e.rows(), a.rows());
        assertTrue(Arrays.deepEquals(e.losses(), a.losses()));
        assertTrue(Arrays.deepEquals(e.off(), a.off()));
        assertTrue(Arrays.deepEquals(e.on(), a.on()));
        assertTrue(Arrays.deepEquals(e.plan(), a.plan()));
    }

    @Test
    void whatIsWrittenIsReadBackAndFilesJoinInOrder() throws IOException {
        TokenFitFile.Data first = data(1, 0.75, 7, 4);
        TokenFitFile.Data second = data(2, 0.5, 3, 4);
        Path a = dir.resolve("a.bin");
        Path b = dir.resolve("b.bin");
        TokenFitFile.write(first, a);
        TokenFitFile.write(second, b);
        assertSame(first, TokenFitFile.read(a));
        assertSame(first.concat(second), TokenFitFile.read(List.of(a, b)));
        try (var files = Files.list(dir)) {
            assertEquals(2, files.count(), "no temporary file left behind");
        }
    }

    @Test
    void aDamagedFileIsATypedErrorNamingTheProblem() throws IOException {
        Path good = dir.resolve("good.bin");
        TokenFitFile.write(data(3, 0.75, 5, 3), good);
        byte[] bytes = Files.readAllBytes(good);

        Path notOne = dir.resolve("text.bin");
        Files.writeString(notOne, "hello, this is not a token file");
        Path cut = dir.resolve("cut.bin");
        Files.write(cut, Arrays.copyOf(bytes, bytes.length - 5));
        Path trailing = dir.resolve("trailing.bin");
        Files.write(trailing, Arrays.copyOf(bytes, bytes.length + 1));
        // The first budget's token count (after magic, version, budget count and the budget) set to 2^31 - 1.
        Path huge = dir.resolve("huge.bin");
        byte[] hostile = bytes.clone();
        ByteBuffer.wrap(hostile).putInt(8 + 4 + 4 + 8, Integer.MAX_VALUE);
        Files.write(huge, hostile);
        Path wide = dir.resolve("wide.bin");
        TokenFitFile.write(data(4, 0.5, 2, 5), wide);

        List<Path> files = List.of(notOne, cut, trailing, huge);
        List<String> problems = List.of("does not start with BUDDYTOK", "ends early", "bytes after its last token",
                "ends early");
        for (int i = 0; i < files.size(); i++) {
            Path file = files.get(i);
            TrainingDataException e = assertThrows(TrainingDataException.class, () -> TokenFitFile.read(file));
            assertTrue(e.getMessage().contains(file.toString()) && e.getMessage().contains(problems.get(i)),
                    e.getMessage());
        }
        TrainingDataException e = assertThrows(TrainingDataException.class,
                () -> TokenFitFile.read(List.of(good, wide)));
        assertTrue(e.getMessage().contains("different models"), e.getMessage());
    }
}
