package dev.buddy.router;

/** Renders a block mask as one character per block: █ for a block that ran, · for one that was skipped. */
public final class PathTrace {
    public static final char RAN = '█';
    public static final char SKIPPED = '·';

    private PathTrace() {}

    public static void render(boolean[] mask, int layerCount, StringBuilder out) {
        for (int i = 0; i < layerCount; i++) {
            out.append(mask[i] ? RAN : SKIPPED);
        }
    }

    /**
     * A listener that emits one line per forward call: the position (or prefill range) and the path, e.g.
     * {@code "    17 █·██·█"}. Every token of a prefill chunk shares its chunk's path, so one line stands for them.
     */
    public static RouteListener printer(java.util.function.Consumer<String> out) {
        StringBuilder line = new StringBuilder();
        return (start, count, phase, mask) -> {
            line.setLength(0);
            String where = count == 1 ? Integer.toString(start) : start + "-" + (start + count - 1);
            line.append(" ".repeat(Math.max(0, 9 - where.length()))).append(where).append(' ');
            render(mask, mask.length, line);
            out.accept(line.toString());
        };
    }

    public static String render(boolean[] mask) {
        StringBuilder sb = new StringBuilder(mask.length);
        render(mask, mask.length, sb);
        return sb.toString();
    }
}
