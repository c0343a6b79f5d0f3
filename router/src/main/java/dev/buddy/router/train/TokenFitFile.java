package dev.buddy.router.train;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

import dev.buddy.gguf.AtomicFiles;

/**
 * The per-token fitting data of {@code buddy route-oracle} ({@code --token-data FILE}), so that a per-token router
 * can be fitted again ({@code --fit-from FILE}) without measuring the routes again, which takes most of an hour on
 * SmolLM2. Binary, big-endian: the magic {@code BUDDYTOK}, a version, the budgets and each budget's token count, the
 * row width, then per token its plan route, its candidates' swapped blocks and losses, and its layer-0 row.
 * Reading checks every count against fixed bounds and the file's end, so a damaged file is a one-line error, never an
 * out-of-memory or a hang.
 */
public final class TokenFitFile {
    private static final byte[] MAGIC = "BUDDYTOK".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    private static final int VERSION = 1;
    private static final int MAX_BUDGETS = 64;
    private static final int MAX_WIDTH = 1 << 16;
    private static final int MAX_BLOCKS = 4096;
    private static final int MAX_CANDIDATES = 4096;

    private TokenFitFile() {}

    /** The fitting tokens of every budget, in the order measured, and how many belong to each budget. */
    public record Data(TokenRouterFit.Tokens tokens, double[] budgets, int[] counts) {
        /** This data followed by {@code other}'s (rows of the same width). */
        public Data concat(Data other) {
            double[] b = Arrays.copyOf(budgets, budgets.length + other.budgets.length);
            System.arraycopy(other.budgets, 0, b, budgets.length, other.budgets.length);
            int[] c = Arrays.copyOf(counts, counts.length + other.counts.length);
            System.arraycopy(other.counts, 0, c, counts.length, other.counts.length);
            return new Data(tokens.concat(other.tokens), b, c);
        }
    }

    /**
     * Reads several files written by {@link #write} and joins them in order (budgets measured by separate runs).
     *
     * @throws TrainingDataException if one is not such a file, or their rows differ in width
     */
    public static Data read(java.util.List<Path> paths) throws IOException {
        Data joined = null;
        for (Path path : paths) {
            Data data = read(path);
            if (joined != null && joined.tokens().width() != data.tokens().width()) {
                throw new TrainingDataException(path + " has rows of " + data.tokens().width() + " values, the files"
                        + " before it " + joined.tokens().width() + ": they come from different models");
            }
            joined = joined == null ? data : joined.concat(data);
        }
        return joined;
    }

    /** Writes {@code data} to {@code path} atomically. */
    public static void write(Data data, Path path) throws IOException {
        TokenRouterFit.Tokens t = data.tokens();
        AtomicFiles.write(path, raw -> {
            DataOutputStream out = new DataOutputStream(new BufferedOutputStream(raw));
            out.write(MAGIC);
            out.writeInt(VERSION);
            out.writeInt(data.budgets().length);
            for (int i = 0; i < data.budgets().length; i++) {
                out.writeDouble(data.budgets()[i]);
                out.writeInt(data.counts()[i]);
            }
            out.writeInt(t.width());
            for (int g = 0; g < t.count(); g++) {
                writeInts(out, t.plan()[g]);
                out.writeInt(t.losses()[g].length);
                for (int c = 0; c < t.losses()[g].length; c++) {
                    out.writeInt(t.off()[g][c]);
                    out.writeInt(t.on()[g][c]);
                    out.writeFloat(t.losses()[g][c]);
                }
                for (int i = 0; i < t.width(); i++) {
                    out.writeFloat(t.rows()[g * t.width() + i]);
                }
            }
            out.flush();
        });
    }

    /**
     * Reads a file written by {@link #write}.
     *
     * @throws TrainingDataException if it is not such a file, or is cut short or damaged
     */
    public static Data read(Path path) throws IOException {
        try (InputStream raw = Files.newInputStream(path);
             DataInputStream in = new DataInputStream(new BufferedInputStream(raw))) {
            byte[] magic = new byte[MAGIC.length];
            in.readFully(magic);
            if (!Arrays.equals(magic, MAGIC)) {
                throw bad(path, "it does not start with " + new String(MAGIC, java.nio.charset.StandardCharsets.US_ASCII)
                        + " (write one with buddy route-oracle --token-data)");
            }
            int version = in.readInt();
            if (version != VERSION) {
                throw bad(path, "version " + version + ", this build reads version " + VERSION);
            }
            int budgetCount = bounded(path, "budget count", in.readInt(), 1, MAX_BUDGETS);
            double[] budgets = new double[budgetCount];
            int[] counts = new int[budgetCount];
            long total = 0;
            for (int i = 0; i < budgetCount; i++) {
                budgets[i] = in.readDouble();
                if (!(budgets[i] > 0 && budgets[i] < 1)) {
                    throw bad(path, "budget " + budgets[i] + " is outside (0, 1)");
                }
                counts[i] = bounded(path, "token count", in.readInt(), 0, Integer.MAX_VALUE);
                total += counts[i];
            }
            int width = bounded(path, "row width", in.readInt(), 1, MAX_WIDTH);
            // Grown as tokens arrive, so a hostile count cannot allocate more than the file holds.
            java.util.List<int[]> plans = new java.util.ArrayList<>();
            java.util.List<int[]> offs = new java.util.ArrayList<>();
            java.util.List<int[]> ons = new java.util.ArrayList<>();
            java.util.List<float[]> losses = new java.util.ArrayList<>();
            java.util.List<float[]> rows = new java.util.ArrayList<>();
            for (long g = 0; g < total; g++) {
                plans.add(readInts(in, path, bounded(path, "plan length", in.readInt(), 1, MAX_BLOCKS)));
                int candidates = bounded(path, "candidate count", in.readInt(), 1, MAX_CANDIDATES);
                int[] off = new int[candidates];
                int[] on = new int[candidates];
                float[] loss = new float[candidates];
                for (int c = 0; c < candidates; c++) {
                    off[c] = bounded(path, "block", in.readInt(), -1, MAX_BLOCKS);
                    on[c] = bounded(path, "block", in.readInt(), -1, MAX_BLOCKS);
                    loss[c] = in.readFloat();
                }
                float[] row = new float[width];
                for (int i = 0; i < width; i++) {
                    row[i] = in.readFloat();
                }
                offs.add(off);
                ons.add(on);
                losses.add(loss);
                rows.add(row);
            }
            if (in.read() != -1) {
                throw bad(path, "it has bytes after its last token");
            }
            float[] flat = new float[Math.toIntExact(total * width)];
            for (int g = 0; g < rows.size(); g++) {
                System.arraycopy(rows.get(g), 0, flat, g * width, width);
            }
            return new Data(new TokenRouterFit.Tokens(flat, width, losses.toArray(float[][]::new),
                    offs.toArray(int[][]::new), ons.toArray(int[][]::new), plans.toArray(int[][]::new)), budgets,
                    counts);
        } catch (EOFException e) {
            throw bad(path, "it ends early");
        } catch (ArithmeticException e) {
            throw bad(path, "it holds more tokens than one fit can take");
        }
    }

    private static void writeInts(DataOutputStream out, int[] values) throws IOException {
        out.writeInt(values.length);
        for (int v : values) {
            out.writeInt(v);
        }
    }

    private static int[] readInts(DataInputStream in, Path path, int n) throws IOException {
        int[] values = new int[n];
        for (int i = 0; i < n; i++) {
            values[i] = bounded(path, "block", in.readInt(), 1, MAX_BLOCKS);
        }
        return values;
    }

    private static int bounded(Path path, String what, int value, int min, int max) {
        if (value < min || value > max) {
            throw bad(path, what + " " + value + " is outside " + min + ".." + max);
        }
        return value;
    }

    private static TrainingDataException bad(Path path, String problem) {
        return new TrainingDataException(path + " is not a route-oracle token file: " + problem);
    }
}
