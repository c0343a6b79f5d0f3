package dev.buddy.gguf.codec;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.Objects;

import dev.buddy.gguf.GgmlType;

/**
 * Walks a run of blocks so that each format only writes how one block is decoded and encoded, as ggml's row
 * functions do inside their {@code for (i = 0; i < nb; i++)} loops.
 */
abstract class AbstractBlockCodec implements BlockCodec {
    private final GgmlType type;
    private final int blockSize;
    private final int bytesPerBlock;

    AbstractBlockCodec(GgmlType type) {
        this.type = type;
        this.blockSize = type.blockSize();
        this.bytesPerBlock = type.bytesPerBlock();
    }

    @Override
    public final GgmlType type() {
        return type;
    }

    @Override
    public boolean canQuantize() {
        return true;
    }

    @Override
    public final void dequantize(MemorySegment src, long srcOffset, float[] dst, int dstOffset, int count) {
        int blocks = wholeBlocks(count);
        Objects.checkFromIndexSize(dstOffset, count, dst.length);
        Objects.checkFromIndexSize(srcOffset, (long) blocks * bytesPerBlock, src.byteSize());
        for (int b = 0; b < blocks; b++) {
            dequantizeBlock(src, srcOffset + (long) b * bytesPerBlock, dst, dstOffset + b * blockSize);
        }
    }

    @Override
    public final void quantize(float[] src, int srcOffset, int count, MemorySegment dst, long dstOffset) {
        int blocks = wholeBlocks(count);
        Objects.checkFromIndexSize(srcOffset, count, src.length);
        Objects.checkFromIndexSize(dstOffset, (long) blocks * bytesPerBlock, dst.byteSize());
        if (!acceptsNonFinite()) {
            requireFinite(src, srcOffset, count);
        }
        // Each block is built in a zeroed scratch array, mirroring the memset()s and |= packing of the C code.
        byte[] block = new byte[bytesPerBlock];
        for (int b = 0; b < blocks; b++) {
            Arrays.fill(block, (byte) 0);
            quantizeBlock(src, srcOffset + b * blockSize, block);
            MemorySegment.copy(block, 0, dst, ValueLayout.JAVA_BYTE, dstOffset + (long) b * bytesPerBlock,
                    bytesPerBlock);
        }
    }

    /** Decodes the block at {@code src[offset..]} into {@code blockSize} floats at {@code dst[dstOffset..]}. */
    abstract void dequantizeBlock(MemorySegment src, long offset, float[] dst, int dstOffset);

    /** Encodes {@code blockSize} floats from {@code src[srcOffset..]} into the zeroed {@code block}. */
    abstract void quantizeBlock(float[] src, int srcOffset, byte[] block);

    /**
     * Whether NaN and infinity may be encoded. Plain float types encode them; block quantisers refuse them, because
     * ggml then converts a NaN or out-of-range float to an integer, which is undefined behaviour in C.
     */
    boolean acceptsNonFinite() {
        return false;
    }

    private int wholeBlocks(int count) {
        if (count < 0 || count % blockSize != 0) {
            throw new IllegalArgumentException(
                    type + " needs a non-negative multiple of " + blockSize + " elements, got " + count);
        }
        return count / blockSize;
    }

    private void requireFinite(float[] src, int srcOffset, int count) {
        for (int i = 0; i < count; i++) {
            if (!Float.isFinite(src[srcOffset + i])) {
                throw new IllegalArgumentException(
                        type + " cannot quantise the non-finite value " + src[srcOffset + i] + " at index "
                                + (srcOffset + i));
            }
        }
    }
}
