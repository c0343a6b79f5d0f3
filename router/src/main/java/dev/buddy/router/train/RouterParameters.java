package dev.buddy.router.train;

import java.util.Arrays;

import dev.buddy.router.TwoLayerMlp;

/**
 * The Decision Module's trainable weights as one flat vector, so the optimiser, gradient clipping and checkpoints
 * treat them uniformly. Layout: W1 ({@code hidden × input}, row-major as {@link TwoLayerMlp} stores it), b1, W2
 * ({@code output × hidden}), b2.
 */
final class RouterParameters {
    final int inputDim;
    final int hiddenDim;
    final int outputDim;
    final int w1Offset;
    final int b1Offset;
    final int w2Offset;
    final int b2Offset;
    final int size;

    RouterParameters(int inputDim, int hiddenDim, int outputDim) {
        this.inputDim = inputDim;
        this.hiddenDim = hiddenDim;
        this.outputDim = outputDim;
        this.w1Offset = 0;
        this.b1Offset = w1Offset + inputDim * hiddenDim;
        this.w2Offset = b1Offset + hiddenDim;
        this.b2Offset = w2Offset + hiddenDim * outputDim;
        this.size = b2Offset + outputDim;
    }

    /** The flat vector of an existing network. */
    float[] flatten(TwoLayerMlp mlp) {
        if (mlp.inputDim() != inputDim || mlp.hiddenDim() != hiddenDim || mlp.outputDim() != outputDim) {
            throw new IllegalArgumentException("MLP shape " + mlp.inputDim() + "→" + mlp.hiddenDim() + "→"
                    + mlp.outputDim() + " does not match " + inputDim + "→" + hiddenDim + "→" + outputDim);
        }
        float[] p = new float[size];
        System.arraycopy(mlp.w1(), 0, p, w1Offset, inputDim * hiddenDim);
        System.arraycopy(mlp.b1(), 0, p, b1Offset, hiddenDim);
        System.arraycopy(mlp.w2(), 0, p, w2Offset, hiddenDim * outputDim);
        System.arraycopy(mlp.b2(), 0, p, b2Offset, outputDim);
        return p;
    }

    /** An immutable network holding a copy of {@code p}. */
    TwoLayerMlp toMlp(float[] p) {
        return new TwoLayerMlp(inputDim, hiddenDim, outputDim,
                Arrays.copyOfRange(p, w1Offset, b1Offset),
                Arrays.copyOfRange(p, b1Offset, w2Offset),
                Arrays.copyOfRange(p, w2Offset, b2Offset),
                Arrays.copyOfRange(p, b2Offset, size));
    }
}
