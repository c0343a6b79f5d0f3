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

    public static String render(boolean[] mask) {
        StringBuilder sb = new StringBuilder(mask.length);
        render(mask, mask.length, sb);
        return sb.toString();
    }
}
