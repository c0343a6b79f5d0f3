package dev.buddy.engine.kv;

/** How the KV cache stores keys and values. */
public enum KvCacheType {
    /** 32-bit floats: twice the memory of F16, no rounding of keys, values, queries or attention weights. */
    F32,
    /**
     * IEEE half floats, llama.cpp's default. Like llama.cpp's CPU attention, the query is rounded to F16 before the
     * key dot products and the softmax weights are rounded to F16 before they weight the values, so greedy decoding
     * follows llama.cpp's.
     */
    F16
}
