package dev.buddy.gguf.codec;

import java.lang.foreign.MemorySegment;

import dev.buddy.gguf.GgmlType;

/**
 * Converts between one GGML tensor type's byte encoding and {@code float}s, bit-exactly as ggml's scalar reference C
 * code does ({@code dequantize_row_*} and {@code quantize_row_*_ref} in ggml-quants.c).
 *
 * <p>These codecs are the oracle that every fast kernel is tested against, so they favour a readable, line-by-line
 * correspondence with ggml over speed. Element counts must be whole blocks ({@link GgmlType#blockSize()}). Source and
 * destination segments are read and written little-endian without alignment, since GGUF packs blocks back to back.
 *
 * <p>Codecs are stateless and thread-safe.
 */
public interface BlockCodec {

    /** The tensor type this codec encodes. */
    GgmlType type();

    /**
     * Decodes {@code count} elements stored at {@code src[srcOffset..]} into {@code dst[dstOffset..]}.
     *
     * @throws IllegalArgumentException when {@code count} is negative or not a whole number of blocks
     * @throws IndexOutOfBoundsException when the source or destination range is out of bounds
     */
    void dequantize(MemorySegment src, long srcOffset, float[] dst, int dstOffset, int count);

    /** Whether {@link #quantize} is available for this type. */
    default boolean canQuantize() {
        return false;
    }

    /**
     * Encodes {@code count} elements of {@code src[srcOffset..]} into {@code dst[dstOffset..]}, producing the bytes
     * ggml's reference quantiser produces.
     *
     * @throws IllegalArgumentException when {@code count} is not a whole number of blocks, or when a block-quantised
     *     type is given a NaN or infinity (ggml's behaviour there is undefined C)
     * @throws CodecUnavailableException when this type has no quantiser ({@link #canQuantize()} is false)
     */
    default void quantize(float[] src, int srcOffset, int count, MemorySegment dst, long dstOffset) {
        throw new CodecUnavailableException("no quantiser for GGML type " + type());
    }
}
