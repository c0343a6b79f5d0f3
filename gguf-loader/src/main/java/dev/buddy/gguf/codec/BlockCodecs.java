package dev.buddy.gguf.codec;

import java.lang.foreign.MemorySegment;
import java.util.EnumMap;
import java.util.Map;
import java.util.Set;

import dev.buddy.gguf.GgmlType;

/** Looks up the reference {@link BlockCodec} of a GGML type, with whole-array conveniences for tests and tools. */
public final class BlockCodecs {
    private static final Map<GgmlType, BlockCodec> CODECS = new EnumMap<>(GgmlType.class);

    static {
        register(new F32Codec());
        register(new F16Codec());
        register(new Bf16Codec());
        register(new Q4_0Codec());
        register(new Q4_1Codec());
        register(new Q5_0Codec());
        register(new Q5_1Codec());
        register(new Q8_0Codec());
        register(new Q8_1Codec());
        register(new Q2_KCodec());
        register(new Q3_KCodec());
        register(new Q4_KCodec());
        register(new Q5_KCodec());
        register(new Q6_KCodec());
        register(new Q8_KCodec());
    }

    private BlockCodecs() {}

    private static void register(BlockCodec codec) {
        CODECS.put(codec.type(), codec);
    }

    /**
     * The codec for {@code type}.
     *
     * @throws CodecUnavailableException when Buddy has no codec for the type (e.g. the IQ and ternary formats)
     */
    public static BlockCodec of(GgmlType type) {
        BlockCodec codec = CODECS.get(type);
        if (codec == null) {
            throw new CodecUnavailableException("no block codec for GGML type " + type + "; supported: "
                    + CODECS.keySet());
        }
        return codec;
    }

    /** Whether {@link #of} has a codec for {@code type}. */
    public static boolean has(GgmlType type) {
        return CODECS.containsKey(type);
    }

    /** The types that have a codec. */
    public static Set<GgmlType> supportedTypes() {
        return Set.copyOf(CODECS.keySet());
    }

    /**
     * Encodes all of {@code values} (a whole number of blocks) as {@code type}.
     *
     * @throws CodecUnavailableException when the type has no codec or no quantiser
     * @throws IllegalArgumentException when the length is not a whole number of blocks, or a block type meets a
     *     non-finite value
     */
    public static byte[] quantize(GgmlType type, float[] values) {
        BlockCodec codec = of(type);
        byte[] out = new byte[Math.toIntExact(type.byteSize(values.length))];
        codec.quantize(values, 0, values.length, MemorySegment.ofArray(out), 0);
        return out;
    }

    /**
     * Decodes {@code count} elements of {@code type} from the start of {@code data}.
     *
     * @throws CodecUnavailableException when the type has no codec
     * @throws IllegalArgumentException when {@code count} is not a whole number of blocks or exceeds a Java array
     */
    public static float[] dequantize(GgmlType type, MemorySegment data, long count) {
        if (count > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException(
                    "cannot dequantise " + count + " elements of " + type + " into one float array");
        }
        BlockCodec codec = of(type);
        type.byteSize(count); // rejects partial blocks with GgmlType's message
        float[] out = new float[(int) count];
        codec.dequantize(data, 0, out, 0, (int) count);
        return out;
    }
}
