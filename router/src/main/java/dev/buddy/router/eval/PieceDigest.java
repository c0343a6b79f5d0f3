package dev.buddy.router.eval;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;

/**
 * Short content digests that tie a checkpoint piece ({@link EvalCheckpoint}) to exactly what was scored: the
 * examples (ids, contexts, continuations, labels) or the token stream and its windows, and the router file. A dataset file edited between
 * two runs, or another {@code --limit}, gives another digest, so its stale piece is not reused.
 */
final class PieceDigest {
    private PieceDigest() {}

    /** SHA-256 over every field of every example that scoring reads, as 16 hex digits. */
    static String examples(List<McExample> examples) {
        MessageDigest sha = sha256();
        for (McExample e : examples) {
            text(sha, e.id());
            integer(sha, e.label());
            integer(sha, e.choices().size());
            for (Choice c : e.choices()) {
                text(sha, c.context());
                text(sha, c.continuation());
                integer(sha, c.normLength());
            }
        }
        return hex(sha);
    }

    /** SHA-256 over a perplexity stream, its window and its stride, as 16 hex digits. */
    static String tokens(int[] stream, int window, int stride) {
        MessageDigest sha = sha256();
        integer(sha, window);
        integer(sha, stride);
        integer(sha, stream.length);
        for (int t : stream) {
            integer(sha, t);
        }
        return hex(sha);
    }

    /** SHA-256 of a small file's bytes (a router or plan file, tens of KB), as 16 hex digits. */
    static String file(java.nio.file.Path path) throws java.io.IOException {
        MessageDigest sha = sha256();
        sha.update(java.nio.file.Files.readAllBytes(path));
        return hex(sha);
    }

    /** Length-prefixed, so that no two different field lists feed the same bytes. */
    private static void text(MessageDigest sha, String s) {
        byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
        integer(sha, bytes.length);
        sha.update(bytes);
    }

    private static void integer(MessageDigest sha, int v) {
        sha.update((byte) (v >>> 24));
        sha.update((byte) (v >>> 16));
        sha.update((byte) (v >>> 8));
        sha.update((byte) v);
    }

    private static String hex(MessageDigest sha) {
        return HexFormat.of().formatHex(sha.digest(), 0, 8);
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
    }
}
