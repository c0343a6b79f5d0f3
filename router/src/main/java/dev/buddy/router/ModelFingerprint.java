package dev.buddy.router;

import dev.buddy.gguf.GgufFile;
import dev.buddy.gguf.TensorInfo;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;

/**
 * Identifies the base model a router belongs to: SHA-256 (lower-case hex) over every tensor's name, GGML type and
 * shape, in file order. Re-quantising, truncating or swapping the architecture changes it; metadata edits (name,
 * chat template) do not. Weight values are deliberately not hashed so fingerprinting a multi-GB model costs
 * microseconds; a router is still refused on a model of another type or layout.
 *
 * <p>Encoding per tensor, little-endian: u32 name length, UTF-8 name bytes, u32 GGML type id, u32 rank, u64 per dim.
 */
public final class ModelFingerprint {
    private ModelFingerprint() {}

    public static String of(GgufFile model) {
        return of(model.tensors());
    }

    public static String of(List<TensorInfo> tensors) {
        MessageDigest sha = sha256();
        ByteBuffer num = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
        for (TensorInfo t : tensors) {
            byte[] name = t.name().getBytes(StandardCharsets.UTF_8);
            sha.update(num.clear().putInt(name.length).array(), 0, 4);
            sha.update(name);
            sha.update(num.clear().putInt(t.type().id()).array(), 0, 4);
            long[] dims = t.dims();
            sha.update(num.clear().putInt(dims.length).array(), 0, 4);
            for (long d : dims) {
                sha.update(num.clear().putLong(d).array(), 0, 8);
            }
        }
        return HexFormat.of().formatHex(sha.digest());
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java platform must provide SHA-256", e);
        }
    }
}
