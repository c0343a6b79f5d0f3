package dev.buddy.router.train;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.OutputStreamWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import dev.buddy.gguf.AtomicFiles;

/**
 * The budget oracle's measurements kept on disk: for each prompt (by its index in the data), the response's mean
 * cross-entropy under the frozen router's top-k mask for every action k = 1..L−2. Cross-entropy, not reward, so one
 * table serves every reward weighting ({@link #rewards}); the expensive part (L−2 teacher-forced passes per prompt)
 * is done once, and a long scoring run can stop and continue ({@link BudgetOracle}).
 *
 * <p>The file is UTF-8 text, written atomically: four header lines naming what the numbers were measured with, a
 * column line, then one tab-separated row per prompt:
 *
 * <pre>
 * # buddy budget table v1
 * # base &lt;base-model fingerprint&gt;
 * # router &lt;router identity&gt;
 * # data &lt;data description&gt; | max-tokens &lt;N&gt;
 * example  ce_k1  ce_k2  ...  ce_k(L-2)
 * 0        6.81   6.02   ...  2.11
 * </pre>
 *
 * @param identity     what the numbers were measured with; a table is only valid for the same model, router and data
 * @param layers       the model's blocks L
 * @param examples     each row's index in the data
 * @param crossEntropy per row, the mean response cross-entropy of action k at index k−1
 */
public record BudgetTable(Identity identity, int layers, int[] examples, double[][] crossEntropy) {
    static final String MAGIC = "# buddy budget table v1";
    /** About 100,000 prompts of 30 actions; anything larger is not a table this tool wrote. */
    static final long MAX_BYTES = 64L << 20;

    /**
     * @param baseFingerprint the base model's fingerprint
     * @param router          {@link PredictorTrainer#routerIdentity} of the frozen router
     * @param data            the data's description
     * @param maxTokens       the length limit the examples were cut to
     */
    public record Identity(String baseFingerprint, String router, String data, int maxTokens) {}

    public BudgetTable {
        if (examples.length != crossEntropy.length) {
            throw new IllegalArgumentException(examples.length + " examples but " + crossEntropy.length + " rows");
        }
        for (double[] row : crossEntropy) {
            if (row.length != layers - 2) {
                throw new IllegalArgumentException("a row has " + row.length + " actions, expected " + (layers - 2));
            }
        }
    }

    public int rows() {
        return examples.length;
    }

    /** {@code r(k) = −λ_perf·CE(k) − λ_cost·b(k)} for every row and action, as the oracle reports it. */
    public BudgetOracle.Result rewards(double lambdaPerf, double lambdaCost) {
        double[][] r = new double[rows()][];
        for (int p = 0; p < r.length; p++) {
            r[p] = BudgetOracle.rewardRow(crossEntropy[p], layers, lambdaPerf, lambdaCost);
        }
        return new BudgetOracle.Result(layers, r);
    }

    /** Writes the table to {@code path} through a temporary file and a rename. */
    public void write(Path path) throws IOException {
        AtomicFiles.write(path, stream -> {
            BufferedWriter w = new BufferedWriter(new OutputStreamWriter(stream, StandardCharsets.UTF_8));
            w.write(MAGIC + "\n");
            w.write("# base " + identity.baseFingerprint() + "\n");
            w.write("# router " + identity.router() + "\n");
            w.write("# data " + identity.data() + " | max-tokens " + identity.maxTokens() + "\n");
            StringBuilder columns = new StringBuilder("example");
            for (int k = 1; k <= layers - 2; k++) {
                columns.append("\tce_k").append(k);
            }
            w.write(columns + "\n");
            for (int p = 0; p < rows(); p++) {
                StringBuilder line = new StringBuilder(Integer.toString(examples[p]));
                for (double ce : crossEntropy[p]) {
                    // Double.toString round-trips exactly, so a table read back trains bit for bit as the original.
                    line.append('\t').append(ce);
                }
                w.write(line + "\n");
            }
            w.flush();
        });
    }

    /**
     * Reads a table written by {@link #write}.
     *
     * @throws BudgetTableException naming the file and line if it is not such a table
     */
    public static BudgetTable read(Path path) throws IOException {
        if (Files.size(path) > MAX_BYTES) {
            throw new BudgetTableException(path + " is " + Files.size(path) + " bytes, more than a budget table can be"
                    + " (" + MAX_BYTES + ")");
        }
        List<String> lines = Files.readAllLines(path, StandardCharsets.UTF_8);
        if (lines.size() < 5 || !lines.get(0).equals(MAGIC)) {
            throw new BudgetTableException(path + " is not a budget table (it must start with '" + MAGIC
                    + "'; write one with buddy train-predictor --oracle N --table FILE)");
        }
        String base = header(path, lines, 1, "# base ");
        String router = header(path, lines, 2, "# router ");
        String dataLine = header(path, lines, 3, "# data ");
        int bar = dataLine.lastIndexOf(" | max-tokens ");
        if (bar < 0) {
            throw new BudgetTableException(path + " line 4: expected '# data DESCRIPTION | max-tokens N'");
        }
        int maxTokens = parseInt(path, 4, dataLine.substring(bar + " | max-tokens ".length()));
        String[] columns = lines.get(4).split("\t", -1);
        if (columns.length < 2 || !columns[0].equals("example")) {
            throw new BudgetTableException(path + " line 5: expected the column line 'example, ce_k1, ...'");
        }
        int actions = columns.length - 1;
        int rows = lines.size() - 5;
        int[] examples = new int[rows];
        double[][] ce = new double[rows][actions];
        for (int p = 0; p < rows; p++) {
            int lineNumber = p + 6;
            String[] cells = lines.get(p + 5).split("\t", -1);
            if (cells.length != actions + 1) {
                throw new BudgetTableException(path + " line " + lineNumber + ": " + cells.length
                        + " columns, expected " + (actions + 1));
            }
            examples[p] = parseInt(path, lineNumber, cells[0]);
            if (examples[p] < 0) {
                throw new BudgetTableException(path + " line " + lineNumber + ": negative example index");
            }
            for (int a = 0; a < actions; a++) {
                try {
                    ce[p][a] = Double.parseDouble(cells[a + 1]);
                } catch (NumberFormatException e) {
                    throw new BudgetTableException(path + " line " + lineNumber + ": '" + cells[a + 1]
                            + "' is not a number");
                }
                if (!(ce[p][a] >= 0) || !Double.isFinite(ce[p][a])) {
                    throw new BudgetTableException(path + " line " + lineNumber + ": cross-entropy " + cells[a + 1]
                            + " is not a finite non-negative number");
                }
            }
        }
        return new BudgetTable(new Identity(base, router, dataLine.substring(0, bar), maxTokens), actions + 2,
                examples, ce);
    }

    /**
     * Throws unless this table was measured with {@code expected}.
     *
     * @throws BudgetTableException naming the first difference
     */
    void requireIdentity(Path path, Identity expected) {
        if (!identity.baseFingerprint().equals(expected.baseFingerprint())) {
            throw new BudgetTableException(path + " was measured on a different base model");
        }
        if (!identity.router().equals(expected.router())) {
            throw new BudgetTableException(path + " was measured with a different router");
        }
        if (!identity.data().equals(expected.data()) || identity.maxTokens() != expected.maxTokens()) {
            throw new BudgetTableException(path + " was measured on " + identity.data() + " cut to "
                    + identity.maxTokens() + " tokens, not " + expected.data() + " cut to " + expected.maxTokens());
        }
    }

    private static String header(Path path, List<String> lines, int index, String prefix) {
        String line = lines.get(index);
        if (!line.startsWith(prefix)) {
            throw new BudgetTableException(path + " line " + (index + 1) + ": expected '" + prefix.strip() + " ...'");
        }
        return line.substring(prefix.length());
    }

    private static int parseInt(Path path, int line, String text) {
        try {
            return Integer.parseInt(text.strip());
        } catch (NumberFormatException e) {
            throw new BudgetTableException(path + " line " + line + ": '" + text + "' is not an integer");
        }
    }
}
