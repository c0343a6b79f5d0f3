package dev.buddy.router;

/**
 * When the route is recomputed during decoding. Prefill always routes.
 *
 * @param kind     the policy
 * @param interval for {@link Kind#EVERY_N}: reroute on decode steps n, 2n, 3n, …; 1 for the other kinds
 */
public record Reroute(Kind kind, int interval) {
    public enum Kind {
        /** Reroute at every decode step (paper default, "Recompute"). */
        EVERY_STEP,
        /** Reroute every {@code interval} decode steps. */
        EVERY_N,
        /** Keep the prefill route for the whole generation (paper ablation "Reuse"). */
        REUSE
    }

    public Reroute {
        if (interval < 1) {
            throw new InvalidRouterOptionException("reroute interval must be >= 1, got " + interval);
        }
        if (kind != Kind.EVERY_N && interval != 1) {
            throw new IllegalArgumentException(kind + " takes no interval");
        }
    }

    public static Reroute everyStep() {
        return new Reroute(Kind.EVERY_STEP, 1);
    }

    public static Reroute every(int n) {
        return n == 1 ? everyStep() : new Reroute(Kind.EVERY_N, n);
    }

    public static Reroute reuse() {
        return new Reroute(Kind.REUSE, 1);
    }

    /** Whether decode step {@code step} (1 for the first token after prefill) recomputes the route. */
    public boolean reroutesAtDecodeStep(long step) {
        return switch (kind) {
            case EVERY_STEP -> true;
            case EVERY_N -> step % interval == 0;
            case REUSE -> false;
        };
    }

    /** Parses {@code every-step}, {@code every-N} (e.g. {@code every-4}) or {@code reuse}. */
    public static Reroute parse(String text) {
        String t = text.trim().toLowerCase();
        if (t.equals("every-step")) {
            return everyStep();
        }
        if (t.equals("reuse")) {
            return reuse();
        }
        if (t.startsWith("every-")) {
            try {
                int n = Integer.parseInt(t.substring("every-".length()));
                if (n >= 1) {
                    return every(n);
                }
            } catch (NumberFormatException ignored) {
                // falls through to the error below
            }
        }
        throw new InvalidRouterOptionException("unknown reroute policy '" + text + "': expected every-step, every-N"
                + " (N >= 1) or reuse");
    }

    @Override
    public String toString() {
        return switch (kind) {
            case EVERY_STEP -> "every-step";
            case EVERY_N -> "every-" + interval;
            case REUSE -> "reuse";
        };
    }
}
