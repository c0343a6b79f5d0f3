package dev.buddy.opencl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.Random;

import dev.buddy.gguf.GgufFile;
import dev.buddy.gguf.TensorInfo;
import dev.buddy.gguf.TestData;
import net.jqwik.api.Example;
import net.jqwik.api.lifecycle.AddLifecycleHook;

/**
 * Real tensors go to the device straight from the read-only file mapping and multiply like their dequantised rows.
 */
@AddLifecycleHook(RequiresOpenCl.class)
class ModelTensorsTest {

    @Example
    void f32ModelTensorsUploadFromTheMapping() throws IOException {
        checkEveryMatrix(TestData.require("models/stories260K.gguf"));
    }

    @Example
    void q8_0ModelTensorsUploadFromTheMapping() throws IOException {
        checkEveryMatrix(TestData.require("models/TinyStories-656K-Q8_0.gguf"));
    }

    private static void checkEveryMatrix(Path path) throws IOException {
        OpenClKernels k = Device.kernels();
        ClContext ctx = Device.context();
        int checked = 0;
        try (GgufFile file = GgufFile.open(path)) {
            for (TensorInfo t : file.tensors()) {
                if (t.dims().length != 2 || !OpenClKernels.WEIGHT_TYPES.contains(t.type())) {
                    continue;
                }
                MemorySegment data = file.tensorData(t);
                int cols = (int) t.dims()[0];
                int rows = (int) t.dims()[1];
                float[] x = WeightFixture.randomVector(cols, new Random(checked));
                float[] got = new float[rows];
                try (DeviceMatrix m = k.upload(t.name(), t.type(), t.dims(), data); ClBuffer xb = ctx.upload(x);
                        ClBuffer ob = ctx.allocate(4L * rows)) {
                    k.matvec(m, xb, 0, ob, 0, false);
                    ctx.read(ob, 0, got, 0, rows);
                }
                long rowBytes = t.type().byteSize(cols);
                for (int r = 0; r < rows; r += Math.max(1, rows / 16)) {
                    byte[] row = data.asSlice(r * rowBytes, rowBytes).toArray(ValueLayout.JAVA_BYTE);
                    WeightFixture w = WeightFixture.of(t.type(), 1, cols, new byte[][] {row});
                    assertEquals(w.dot(0, x, 0), got[r], w.tolerance(0, x, 0) + 1e-6, t.name() + " row " + r);
                }
                checked++;
            }
        }
        assertTrue(checked >= 7, "only " + checked + " matrices checked in " + path);
    }
}
