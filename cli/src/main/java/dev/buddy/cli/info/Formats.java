package dev.buddy.cli.info;

import java.math.BigDecimal;
import java.util.List;
import java.util.Locale;

/** Text renderings shared by the info sections and the text renderer. */
final class Formats {
    private Formats() {}

    /** "1185376 bytes (1.13 MiB)". */
    static String bytes(long n) {
        return n < 1024 ? n + " bytes" : n + " bytes (" + binary(n) + ")";
    }

    /** "1.13 MiB", "512 B". */
    static String binary(long n) {
        if (n < 1024) {
            return n + " B";
        }
        String[] units = {"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
        double v = n;
        int u = -1;
        while (v >= 1024 && u < units.length - 1) {
            v /= 1024;
            u++;
        }
        return String.format(Locale.ROOT, "%.2f %s", v, units[u]);
    }

    /** "292.10 K", "7.24 B" (parameter counts); exact below a thousand. */
    static String count(long n) {
        if (n < 1000) {
            return Long.toString(n);
        }
        String[] units = {"K", "M", "B", "T"};
        double v = n;
        int u = -1;
        while (v >= 1000 && u < units.length - 1) {
            v /= 1000;
            u++;
        }
        return String.format(Locale.ROOT, "%d (%.2f %s)", n, v, units[u]);
    }

    /** Floats as people write them: 10000, 0.00001, 1.5; very small or large ones in scientific notation. */
    static String number(double d) {
        if (Double.isNaN(d) || Double.isInfinite(d)) {
            return Double.toString(d);
        }
        if (d == Math.rint(d) && Math.abs(d) < 1e15) {
            return Long.toString((long) d);
        }
        if (Math.abs(d) < 1e-6 || Math.abs(d) >= 1e15) {
            return Double.toString(d);
        }
        return new BigDecimal(Double.toString(d)).stripTrailingZeros().toPlainString();
    }

    /** Any field value as text; strings have control characters escaped so one field stays on one line. */
    static String value(Object v) {
        return switch (v) {
            case Float f -> number(Double.parseDouble(Float.toString(f))); // the float's shortest decimal, not its binary expansion
            case Double d -> number(d);
            case Boolean b -> b ? "yes" : "no";
            case String s -> printable(s);
            case List<?> list -> list.stream().map(Formats::value).toList().toString();
            default -> String.valueOf(v);
        };
    }

    static String printable(String s) {
        StringBuilder sb = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                // Unicode's own line and paragraph separators would break the line in some terminals and tools.
                case '\u2028', '\u2029' -> sb.append(String.format("\\u%04x", (int) c));
                default -> {
                    if (c < 0x20 || c >= 0x7f && c <= 0x9f) { // C0 and C1 controls, DEL
                        sb.append(String.format("\\x%02x", (int) c));
                    } else {
                        sb.append(c);
                    }
                }
            }
        }
        return sb.toString();
    }
}
