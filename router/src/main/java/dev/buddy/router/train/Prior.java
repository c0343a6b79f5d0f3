package dev.buddy.router.train;

import java.util.Arrays;

/**
 * The normalised prior p̃ the Decision Module adds to its scores ({@code s' = s + ω·p̃}), one value per middle block,
 * and the indicator it came from.
 *
 * @param kind   {@code taylor}, {@code dppl}, {@code cosine} or {@code none} (the router file's prior_kind)
 * @param values p̃, L−2 values
 */
public record Prior(String kind, float[] values) {
    public Prior {
        values = values.clone();
    }

    /** No prior: zeros, so routing rests on the MLP alone. */
    public static Prior none(int middleBlocks) {
        return new Prior("none", new float[middleBlocks]);
    }

    @Override
    public float[] values() {
        return values.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Prior p && p.kind.equals(kind) && Arrays.equals(p.values, values);
    }

    @Override
    public int hashCode() {
        return kind.hashCode() * 31 + Arrays.hashCode(values);
    }

    @Override
    public String toString() {
        return kind + Arrays.toString(values);
    }
}
