package dev.buddy.cli;

import java.util.Collection;

/** "Did you mean ...?" for mistyped commands and options: the closest candidate within a small edit distance. */
final class Suggestions {
    private Suggestions() {}

    /** The candidate nearest to {@code typed}, or null when none is close enough to be a plausible typo. */
    static String closest(String typed, Collection<String> candidates) {
        String best = null;
        int bestDistance = Integer.MAX_VALUE;
        for (String c : candidates) {
            int d = distance(typed, c);
            if (d < bestDistance) {
                bestDistance = d;
                best = c;
            }
        }
        // Two edits catch transpositions and a dropped letter; beyond that suggestions are mostly noise.
        int limit = Math.min(2, Math.max(1, typed.length() / 3));
        return bestDistance <= limit ? best : null;
    }

    /** Optimal string alignment distance: Levenshtein plus adjacent transpositions ("ifno" -> "info" is 1). */
    static int distance(String a, String b) {
        int[][] d = new int[a.length() + 1][b.length() + 1];
        for (int i = 0; i <= a.length(); i++) {
            d[i][0] = i;
        }
        for (int j = 0; j <= b.length(); j++) {
            d[0][j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            for (int j = 1; j <= b.length(); j++) {
                int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
                d[i][j] = Math.min(Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1), d[i - 1][j - 1] + cost);
                if (i > 1 && j > 1 && a.charAt(i - 1) == b.charAt(j - 2) && a.charAt(i - 2) == b.charAt(j - 1)) {
                    d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
                }
            }
        }
        return d[a.length()][b.length()];
    }
}
