package dev.buddy.opencl;

/**
 * A kernel-shape system property ({@code -Dbuddy.opencl.prefill.rows}, {@code .prefill.tokens}, {@code .decode.rows})
 * holds a value the kernels cannot be built with. The message names the property and the allowed values.
 */
public final class TuningException extends IllegalArgumentException {
    public TuningException(String message) {
        super(message);
    }

    /** The integer in system property {@code name}, or {@code fallback} when it is not set. */
    static int intProperty(String name, int fallback) {
        String text = System.getProperty(name);
        if (text == null) {
            return fallback;
        }
        try {
            return Integer.parseInt(text.strip());
        } catch (NumberFormatException e) {
            throw new TuningException("-D" + name + "=" + text + " is not an integer");
        }
    }

    /** Builds {@code shape} from property values, naming the properties when the shape rejects them. */
    static <T> T checked(String properties, java.util.function.Supplier<T> shape) {
        try {
            return shape.get();
        } catch (TuningException e) {
            throw e;
        } catch (IllegalArgumentException e) {
            throw new TuningException(properties + ": " + e.getMessage());
        }
    }
}
