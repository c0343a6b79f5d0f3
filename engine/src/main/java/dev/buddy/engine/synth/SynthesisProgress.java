package dev.buddy.engine.synth;

/** Told how far writing a synthetic model has got; called on the writing thread after every chunk of tensor data. */
@FunctionalInterface
public interface SynthesisProgress {
    SynthesisProgress NONE = (done, total) -> {};

    /**
     * @param bytesDone tensor bytes written so far
     * @param bytesTotal tensor bytes the file will hold
     */
    void advanced(long bytesDone, long bytesTotal);
}
