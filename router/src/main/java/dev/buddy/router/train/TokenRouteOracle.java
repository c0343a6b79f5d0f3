package dev.buddy.router.train;

import java.util.Arrays;
import java.util.stream.IntStream;

import dev.buddy.engine.tensor.Parallel;

/**
 * The route oracle ({@link RouteOracle}) one level down: the same candidate routes, scored token by token, to ask
 * whether choosing a route per <em>token</em> could pay where choosing one per example does not. BUDDY re-decides its
 * route at every decode step, so this is the headroom its every-step routing is for.
 *
 * <p>Two-fold by example, as the per-example oracle: each token of one half of the examples gets a route from the
 * tokens of the other half nearest to it by one of three inputs, each read at that token's position:
 * <ul>
 *   <li>{@link Feature#NEWEST_VALUE}: the token's own layer-0 value row (what the Decision Module adds for the
 *       newest token);</li>
 *   <li>{@link Feature#POOLED_VALUE}: the mean of the layer-0 rows up to and including it (what a mean-pooled
 *       decision reads at that step);</li>
 *   <li>{@link Feature#HIDDEN}: the plan route's last hidden state at it, a far richer input than any router has
 *       before it routes.</li>
 * </ul>
 * and each token's own best route (the token oracle). Unlike an example, a token cannot be split in half to take the
 * luck out of its oracle; the neighbours are the test of whether its preference is learnable.
 *
 * <p>Each token's loss under a candidate is measured with every earlier token of its sequence on the same candidate
 * (the candidates are routes for the whole sequence). A router that changes route from token to token gives earlier
 * tokens their own routes, and so other keys and values in the blocks where the routes differ; these figures are what
 * per-token choice gains when the history follows it, not a causal router's result.
 *
 * @param positions    per example, the positions with a scored target, ascending
 * @param inputTokens  per example and scored position, the token at that position
 * @param targetTokens per example and scored position, the token it must predict
 * @param losses       per example, candidate and scored position (index into {@code positions}), −log p(target)
 * @param newest       per example, {@code kvDim} floats per scored position: its layer-0 row
 * @param pooled       per example, {@code kvDim} floats per scored position: the mean of the layer-0 rows 0..t
 * @param hidden       per example, {@code dim} floats per scored position: the plan's last hidden state
 */
public record TokenRouteOracle(int[][] positions, int[][] inputTokens, int[][] targetTokens, float[][][] losses,
                               float[][] newest, float[][] pooled, float[][] hidden) {

    /** What the nearest tokens are chosen by. */
    public enum Feature {
        NEWEST_VALUE("the token's layer-0 value row"),
        POOLED_VALUE("layer-0 values pooled up to the token"),
        HIDDEN("last hidden state");

        private final String description;

        Feature(String description) {
            this.description = description;
        }

        public String description() {
            return description;
        }
    }

    public int exampleCount() {
        return positions.length;
    }

    public int candidateCount() {
        return losses.length == 0 ? 0 : losses[0].length;
    }

    /** Scored tokens of all examples together; a token's global index runs over examples in order. */
    public int tokenCount() {
        return offsets()[positions.length];
    }

    /** Example e's first global token index at {@code [e]}, the total at {@code [exampleCount()]}. */
    public int[] offsets() {
        int[] offsets = new int[positions.length + 1];
        for (int e = 0; e < positions.length; e++) {
            offsets[e + 1] = offsets[e] + positions[e].length;
        }
        return offsets;
    }

    /** Per example, the mean over its scored tokens of the loss under one candidate for all of them. */
    public double[] fixed(int candidate) {
        double[] out = new double[positions.length];
        for (int e = 0; e < out.length; e++) {
            out[e] = mean(losses[e][candidate]);
        }
        return out;
    }

    /** Per global token, its own best candidate (the lowest index on ties: the plan first). */
    public int[] oracleChoices() {
        int[] choices = new int[tokenCount()];
        int g = 0;
        for (float[][] example : losses) {
            for (int j = 0; j < example[0].length; j++) {
                int best = 0;
                for (int c = 1; c < example.length; c++) {
                    if (example[c][j] < example[best][j]) {
                        best = c;
                    }
                }
                choices[g++] = best;
            }
        }
        return choices;
    }

    /**
     * For every scored token, the {@code maxNeighbours} tokens of the other fold's examples (fold = example index mod
     * 2, as {@link RouteOracle.Result#fold}) nearest to it by cosine of {@code feature}, nearest first (the lower
     * global index on ties), as global indices.
     */
    public int[][] nearest(Feature feature, int maxNeighbours, Parallel pool) {
        int[] offsets = offsets();
        int total = offsets[positions.length];
        float[][] rows = rowsOf(feature);
        int width = total == 0 ? 0 : widthOf(rows);
        float[] unit = unitRows(rows, offsets, width);
        int[][] folds = {foldTokens(offsets, 0), foldTokens(offsets, 1)};
        int[] foldOf = new int[total];
        for (int e = 0; e < positions.length; e++) {
            Arrays.fill(foldOf, offsets[e], offsets[e + 1], e % 2);
        }
        int[][] out = new int[total][];
        pool.forRange(total, 16, (from, to) -> {
            for (int g = from; g < to; g++) {
                out[g] = nearestOf(unit, width, g, folds[1 - foldOf[g]], maxNeighbours);
            }
        });
        return out;
    }

    /** The {@code count} members of {@code pool} with the highest dot product of unit rows with row g, best first. */
    private static int[] nearestOf(float[] unit, int width, int g, int[] pool, int count) {
        int n = Math.min(count, pool.length);
        if (n == 0) {
            return new int[0];
        }
        int[] best = new int[n];
        float[] bestDot = new float[n];
        int filled = 0;
        int q = g * width;
        for (int h : pool) {
            int o = h * width;
            float s0 = 0;
            float s1 = 0;
            float s2 = 0;
            float s3 = 0;
            int i = 0;
            for (; i + 3 < width; i += 4) {
                s0 += unit[q + i] * unit[o + i];
                s1 += unit[q + i + 1] * unit[o + i + 1];
                s2 += unit[q + i + 2] * unit[o + i + 2];
                s3 += unit[q + i + 3] * unit[o + i + 3];
            }
            for (; i < width; i++) {
                s0 += unit[q + i] * unit[o + i];
            }
            float dot = (s0 + s1) + (s2 + s3);
            if (filled == n && !(dot > bestDot[n - 1])) {
                continue;
            }
            // Insert after every equal or better one: the pool is ascending, so ties keep the lower index first.
            int at = filled < n ? filled : n - 1;
            while (at > 0 && dot > bestDot[at - 1]) {
                best[at] = best[at - 1];
                bestDot[at] = bestDot[at - 1];
                at--;
            }
            best[at] = h;
            bestDot[at] = dot;
            if (filled < n) {
                filled++;
            }
        }
        return best;
    }

    /**
     * Per global token, the candidate a {@link TokenRouteClassifier} fitted on the other fold's tokens (fold =
     * example index mod 2) scores highest from {@code feature}.
     */
    public int[] classifierChoices(Feature feature, TokenRouteClassifier.Settings settings) {
        int[] offsets = offsets();
        int total = offsets[positions.length];
        float[][] byExample = rowsOf(feature);
        int width = total == 0 ? 0 : widthOf(byExample);
        float[] rows = new float[total * width];
        for (int e = 0; e < positions.length; e++) {
            System.arraycopy(byExample[e], 0, rows, offsets[e] * width, positions[e].length * width);
        }
        float[][] byToken = lossesByToken();
        int[] choices = new int[total];
        for (int f = 0; f < 2; f++) {
            int[] fit = foldTokens(offsets, 1 - f);
            int[] test = foldTokens(offsets, f);
            if (fit.length == 0) {
                continue;
            }
            TokenRouteClassifier classifier = TokenRouteClassifier.fit(rows, width, byToken, fit, settings);
            for (int g : test) {
                choices[g] = classifier.choose(rows, g);
            }
        }
        return choices;
    }

    private int[] foldTokens(int[] offsets, int fold) {
        return IntStream.range(0, positions.length).filter(e -> e % 2 == fold)
                .flatMap(e -> IntStream.range(offsets[e], offsets[e + 1])).toArray();
    }

    private float[][] rowsOf(Feature feature) {
        return switch (feature) {
            case NEWEST_VALUE -> newest;
            case POOLED_VALUE -> pooled;
            case HIDDEN -> hidden;
        };
    }

    /**
     * Per global token, the candidate with the lowest summed loss over its first {@code neighbours} nearest tokens
     * (the lowest index on ties).
     */
    public int[] neighbourChoices(int[][] nearest, int neighbours) {
        float[][] byToken = lossesByToken();
        int candidates = candidateCount();
        int[] choices = new int[nearest.length];
        double[] sum = new double[candidates];
        for (int g = 0; g < nearest.length; g++) {
            Arrays.fill(sum, 0);
            int n = Math.min(neighbours, nearest[g].length);
            for (int i = 0; i < n; i++) {
                float[] l = byToken[nearest[g][i]];
                for (int c = 0; c < candidates; c++) {
                    sum[c] += l[c];
                }
            }
            int best = 0;
            for (int c = 1; c < candidates; c++) {
                if (sum[c] < sum[best]) {
                    best = c;
                }
            }
            choices[g] = best;
        }
        return choices;
    }

    /**
     * The choices permuted among each example's own tokens (Fisher-Yates, drawn from {@code seed}): every example
     * keeps how many of its tokens take each route, but not which ones.
     */
    public int[] shuffledWithinExamples(int[] choices, long seed) {
        int[] offsets = offsets();
        int[] out = choices.clone();
        java.util.SplittableRandom random = new java.util.SplittableRandom(seed);
        for (int e = 0; e < positions.length; e++) {
            for (int i = offsets[e + 1] - 1; i > offsets[e]; i--) {
                int j = offsets[e] + random.nextInt(i - offsets[e] + 1);
                int t = out[i];
                out[i] = out[j];
                out[j] = t;
            }
        }
        return out;
    }

    /** Per example, the mean over its scored tokens of the loss of each token's chosen candidate. */
    public double[] chosen(int[] choices) {
        int[] offsets = offsets();
        double[] out = new double[positions.length];
        for (int e = 0; e < out.length; e++) {
            double s = 0;
            for (int j = 0; j < positions[e].length; j++) {
                s += losses[e][choices[offsets[e] + j]][j];
            }
            out[e] = positions[e].length == 0 ? Double.NaN : s / positions[e].length;
        }
        return out;
    }

    /** The share of tokens whose choice is not their example's {@code reference[e]}. */
    public double shareOff(int[] choices, int[] reference) {
        int[] offsets = offsets();
        long off = 0;
        for (int e = 0; e < positions.length; e++) {
            for (int g = offsets[e]; g < offsets[e + 1]; g++) {
                off += choices[g] != reference[e] ? 1 : 0;
            }
        }
        return choices.length == 0 ? 0 : (double) off / choices.length;
    }

    /** The share of consecutive scored tokens of one example whose choices differ: how often the route would move. */
    public double changeRate(int[] choices) {
        int[] offsets = offsets();
        long pairs = 0;
        long changes = 0;
        for (int e = 0; e < positions.length; e++) {
            for (int g = offsets[e] + 1; g < offsets[e + 1]; g++) {
                pairs++;
                changes += choices[g] != choices[g - 1] ? 1 : 0;
            }
        }
        return pairs == 0 ? 0 : (double) changes / pairs;
    }

    private float[][] lossesByToken() {
        float[][] out = new float[tokenCount()][];
        int g = 0;
        for (float[][] example : losses) {
            for (int j = 0; j < example[0].length; j++) {
                float[] row = new float[example.length];
                for (int c = 0; c < example.length; c++) {
                    row[c] = example[c][j];
                }
                out[g++] = row;
            }
        }
        return out;
    }

    private int widthOf(float[][] rows) {
        for (int e = 0; e < rows.length; e++) {
            if (positions[e].length > 0) {
                return rows[e].length / positions[e].length;
            }
        }
        return 0;
    }

    /** All rows one after another, each scaled to unit length (a zero row stays zero). */
    private static float[] unitRows(float[][] rows, int[] offsets, int width) {
        float[] unit = new float[offsets[offsets.length - 1] * width];
        for (int e = 0; e < rows.length; e++) {
            int count = offsets[e + 1] - offsets[e];
            for (int j = 0; j < count; j++) {
                double norm = 0;
                for (int i = 0; i < width; i++) {
                    norm += (double) rows[e][j * width + i] * rows[e][j * width + i];
                }
                float scale = norm == 0 ? 0f : (float) (1 / Math.sqrt(norm));
                int o = (offsets[e] + j) * width;
                for (int i = 0; i < width; i++) {
                    unit[o + i] = rows[e][j * width + i] * scale;
                }
            }
        }
        return unit;
    }

    private static double mean(float[] values) {
        double s = 0;
        for (float v : values) {
            s += v;
        }
        return values.length == 0 ? Double.NaN : s / values.length;
    }
}
