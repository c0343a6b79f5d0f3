package dev.buddy.opencl;

import java.util.LinkedHashSet;
import java.util.Set;

/**
 * One transformer block's weights on the device ({@code blk.N.*}), plus the input conversions each group of matrices
 * reading the same activations needs (Q/K/V, K/V alone for a skipped block, the attention output, gate/up, down),
 * worked out once at load so a forward call allocates nothing. Optional tensors are null when absent.
 */
record DeviceBlock(ClBuffer attnNorm, DeviceMatrix wq, DeviceMatrix wk, DeviceMatrix wv, DeviceMatrix wo,
        ClBuffer bq, ClBuffer bk, ClBuffer bv, ClBuffer qNorm, ClBuffer kNorm, ClBuffer ffnNorm, DeviceMatrix gate,
        DeviceMatrix up, DeviceMatrix down, InputFormat[] qkvInputs, InputFormat[] kvInputs, InputFormat[] woInputs,
        InputFormat[] gateUpInputs, InputFormat[] downInputs) {

    static InputFormat[] formats(boolean exact, DeviceMatrix... matrices) {
        Set<InputFormat> set = new LinkedHashSet<>();
        for (DeviceMatrix m : matrices) {
            set.add(exact ? InputFormat.forWeight(m.type()) : InputFormat.FLOAT);
        }
        return set.toArray(new InputFormat[0]);
    }
}
