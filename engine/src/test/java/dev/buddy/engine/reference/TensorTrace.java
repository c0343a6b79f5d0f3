package dev.buddy.engine.reference;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BOOLEAN;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Every intermediate tensor of llama.cpp's compute graph, captured through the context's {@code cb_eval} callback
 * (ggml_backend_sched_eval_callback) during {@link LlamaCppReference} decodes: the named nodes of the last
 * {@code llama_decode} ("attn_norm-3", "Qcur-3", "kq_soft_max_ext-3", "ffn_inp-3", "l_out-3", ...), copied to floats
 * in logical order. It answers "which op is the first to differ" when Buddy's logits part from llama.cpp's, op by op
 * and bit by bit, instead of guessing from the logits.
 *
 * <p>Only F32 and F16 tensors are copied (the graph's activations, and the F16 KV views); quantised weight views are
 * left out. The scheduler calls the callback on the thread that called {@code llama_decode}; a trace serves one
 * reference at a time.
 */
public final class TensorTrace {
    /**
     * One captured tensor: {@code ne} as ggml counts dimensions (ne[0] fastest), values in that order; {@code node}
     * and {@code source} are the native addresses of this node and its first operand, linking it to its input.
     */
    public record Tensor(String name, String op, long[] ne, float[] data, long node, long source) {
        /** Element (i0, i1, i2) in ggml's index order. */
        public float at(long i0, long i1, long i2) {
            return data[(int) (i0 + ne[0] * (i1 + ne[1] * i2))];
        }
    }

    // struct ggml_tensor (ggml.h of b4916): type at 0, ne[4] at 16, nb[4] at 48
    private static final long TYPE_OFFSET = 0;
    private static final long NE_OFFSET = 16;
    private static final long NB_OFFSET = 48;
    private static final long SRC_OFFSET = 152; // after op (4), op_params[16] (64) and flags (4)
    private static final int GGML_TYPE_F32 = 0;
    private static final int GGML_TYPE_F16 = 1;

    private static final MethodHandle GET_NAME =
            LlamaCppNative.bind("ggml_get_name", FunctionDescriptor.of(ADDRESS, ADDRESS));
    private static final MethodHandle GET_DATA =
            LlamaCppNative.bind("ggml_get_data", FunctionDescriptor.of(ADDRESS, ADDRESS));
    private static final MethodHandle OP_DESC =
            LlamaCppNative.bind("ggml_op_desc", FunctionDescriptor.of(ADDRESS, ADDRESS));

    private static volatile TensorTrace active;
    private static final MemorySegment CALLBACK = callbackStub();

    private final List<Tensor> computed = new ArrayList<>();
    private final Map<String, Tensor> latest = new LinkedHashMap<>();

    /** The names of the last decode's tensors, in the order the graph first computed them. */
    public synchronized Set<String> names() {
        return new LinkedHashSet<>(latest.keySet());
    }

    /**
     * The last tensor of the last decode with this name, or null. A name can label several nodes in turn (llama.cpp
     * names Q's product, its bias sum and its rotation all "Qcur-0"): this is the last of them.
     */
    public synchronized Tensor get(String name) {
        return latest.get(name);
    }

    /** Every tensor of the last decode, in computation order. */
    public synchronized List<Tensor> computed() {
        return List.copyOf(computed);
    }

    /** Every tensor of the last decode named {@code name}, in computation order. */
    public synchronized List<Tensor> versions(String name) {
        return computed.stream().filter(t -> t.name().equals(name)).toList();
    }

    /** The tensor {@code t} computed from (its first operand), or null when that node was not captured. */
    public synchronized Tensor sourceOf(Tensor t) {
        Tensor found = null;
        for (Tensor candidate : computed) {
            if (candidate == t) {
                break;
            }
            if (candidate.node() == t.source()) {
                found = candidate;
            }
        }
        return found;
    }

    synchronized void clear() {
        computed.clear();
        latest.clear();
    }

    /** Makes this trace the one the callback fills, and returns the callback's address for cb_eval. */
    MemorySegment attach() {
        active = this;
        return CALLBACK;
    }

    private synchronized void record(Tensor t) {
        computed.add(t);
        latest.put(t.name(), t);
    }

    /** cb_eval: asked first (return true to see the node), then called again once the node is computed. */
    @SuppressWarnings("unused") // bound through a method handle
    private static boolean onEval(MemorySegment tensor, boolean ask, MemorySegment userData) {
        if (ask) {
            return true;
        }
        try {
            TensorTrace trace = active;
            if (trace != null) {
                Tensor copied = copy(tensor.reinterpret(SRC_OFFSET + 8));
                if (copied != null) {
                    trace.record(copied);
                }
            }
        } catch (Throwable ignored) {
            // An exception escaping an upcall would kill the JVM; a missing tensor shows up as null in the test.
        }
        return true;
    }

    private static Tensor copy(MemorySegment t) throws Throwable {
        int type = t.get(JAVA_INT, TYPE_OFFSET);
        if (type != GGML_TYPE_F32 && type != GGML_TYPE_F16) {
            return null;
        }
        long[] ne = new long[4];
        long[] nb = new long[4];
        long count = 1;
        for (int d = 0; d < 4; d++) {
            ne[d] = t.get(JAVA_LONG, NE_OFFSET + 8L * d);
            nb[d] = t.get(JAVA_LONG, NB_OFFSET + 8L * d);
            count *= ne[d];
        }
        if (count > 1 << 26) {
            return null; // an embedding table or the like: not an activation
        }
        String name = ((MemorySegment) GET_NAME.invokeExact(t)).reinterpret(64).getString(0);
        String op = ((MemorySegment) OP_DESC.invokeExact(t)).reinterpret(64).getString(0);
        MemorySegment data = (MemorySegment) GET_DATA.invokeExact(t);
        if (data.equals(MemorySegment.NULL)) {
            return null;
        }
        long span = 0;
        for (int d = 0; d < 4; d++) {
            span += (ne[d] - 1) * nb[d];
        }
        data = data.reinterpret(span + 4);
        float[] values = new float[(int) count];
        int i = 0;
        for (long i3 = 0; i3 < ne[3]; i3++) {
            for (long i2 = 0; i2 < ne[2]; i2++) {
                for (long i1 = 0; i1 < ne[1]; i1++) {
                    for (long i0 = 0; i0 < ne[0]; i0++) {
                        long at = i0 * nb[0] + i1 * nb[1] + i2 * nb[2] + i3 * nb[3];
                        values[i++] = type == GGML_TYPE_F32 ? data.get(JAVA_FLOAT, at)
                                : Float.float16ToFloat(data.get(JAVA_SHORT, at));
                    }
                }
            }
        }
        return new Tensor(name, op, ne, values, t.address(), t.get(JAVA_LONG, SRC_OFFSET));
    }

    private static MemorySegment callbackStub() {
        try {
            MethodHandle target = MethodHandles.lookup().findStatic(TensorTrace.class, "onEval",
                    MethodType.methodType(boolean.class, MemorySegment.class, boolean.class, MemorySegment.class));
            return Linker.nativeLinker().upcallStub(target, FunctionDescriptor.of(JAVA_BOOLEAN, ADDRESS, JAVA_BOOLEAN,
                    ADDRESS), Arena.global());
        } catch (ReflectiveOperationException e) {
            throw new LlamaCppException("cannot bind the llama.cpp eval callback: " + e, e);
        }
    }
}
