package dev.buddy.router.eval;

/** A multiple-choice accuracy, as lm-evaluation-harness names them. */
public enum Metric {
    /** Arg-max of the summed log-probability of each choice. */
    ACC("acc"),
    /** Arg-max of the summed log-probability divided by the choice's length in characters. */
    ACC_NORM("acc_norm");

    private final String key;

    Metric(String key) {
        this.key = key;
    }

    /** The name used in reports: {@code acc} or {@code acc_norm}. */
    public String key() {
        return key;
    }
}
