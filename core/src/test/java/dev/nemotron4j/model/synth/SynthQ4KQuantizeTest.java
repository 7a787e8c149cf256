package dev.nemotron4j.model.synth;

import dev.nemotron4j.Golden;
import dev.nemotron4j.formats.TensorEntry;
import dev.nemotron4j.formats.gguf.GGUFFile;
import dev.nemotron4j.tensor.GGMLType;
import dev.nemotron4j.tensor.Q4_KTensor;
import dev.nemotron4j.tensor.WeightTensor;
import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The Q4_K quantizer the synthesizer uses, against its own dequantizer and against llama-quantize's output. */
class SynthQ4KQuantizeTest {

    @Test
    void roundTripIsCloseToTheInput() {
        int rows = 8;
        int cols = 512;
        float[] x = weights(rows * cols);
        MemorySegment q = MemorySegment.ofArray(new byte[(int) GGMLType.Q4_K.byteSize(x.length)]);
        Q4_KTensor.quantize(x, 0, x.length, q, 0);
        double error = relativeRmsError(x, new Q4_KTensor(q, rows, cols));
        // 4-bit levels with per-32 scale and min: relative RMS error around 0.1
        assertTrue(error < 0.15, "relative rms error " + error);
    }

    /** llama-quantize (no imatrix) runs quantize_row_q4_K_ref; quantizing the f32 weights must give its blocks. */
    @Test
    void matchesLlamaQuantizeOnGoldenWeights() {
        String model = "tiny-nemotron-k256";
        try (GGUFFile f32 = GGUFFile.open(Golden.gguf(model, "f32"));
             GGUFFile q4k = GGUFFile.open(Golden.gguf(model, "q4_k"))) {
            int compared = 0;
            for (TensorEntry golden : q4k.tensors().values()) {
                if (golden.type() != GGMLType.Q4_K) {
                    continue;
                }
                float[] x = f32.tensors().get(golden.name()).toFloatArray();
                MemorySegment ours = MemorySegment.ofArray(new byte[(int) golden.data().byteSize()]);
                Q4_KTensor.quantize(x, 0, x.length, ours, 0);
                long blocks = golden.data().byteSize() / 144;
                long sameBlocks = 0;
                for (long b = 0; b < blocks; b++) {
                    if (ours.asSlice(b * 144, 144).mismatch(golden.data().asSlice(b * 144, 144)) == -1) {
                        sameBlocks++;
                    }
                }
                // Float rounding (FMA contraction in the C build) may flip a rare level; nearly all blocks match.
                assertTrue(sameBlocks >= blocks * 0.99, golden.name() + ": " + sameBlocks + "/" + blocks + " identical");
                int rows = (int) golden.shape()[0];
                int cols = (int) golden.rowLength();
                float[] a = new float[cols];
                float[] b = new float[cols];
                Q4_KTensor mine = new Q4_KTensor(ours, rows, cols);
                Q4_KTensor theirs = (Q4_KTensor) golden.asMatrix();
                for (int r = 0; r < rows; r++) {
                    mine.dequantizeRow(r, a, 0);
                    theirs.dequantizeRow(r, b, 0);
                    for (int j = 0; j < cols; j++) {
                        assertEquals(b[j], a[j], 0.05f, golden.name() + " row " + r + " col " + j);
                    }
                }
                compared++;
            }
            assertTrue(compared >= 10, "compared " + compared + " Q4_K tensors");
        }
    }

    /** √(Σ (x − back)² / Σ x²) of a round trip of x through a quantized matrix holding it. */
    static double relativeRmsError(float[] x, WeightTensor quantized) {
        int cols = quantized.cols();
        float[] back = new float[x.length];
        for (int r = 0; r < quantized.rows(); r++) {
            quantized.dequantizeRow(r, back, r * cols);
        }
        double err = 0;
        double norm = 0;
        for (int i = 0; i < x.length; i++) {
            err += (x[i] - back[i]) * (x[i] - back[i]);
            norm += x[i] * x[i];
        }
        return Math.sqrt(err / norm);
    }

    /** Weight-like values: gaussian, a third of them at a fifth of the others' spread. */
    static float[] weights(int n) {
        Random rng = new Random(3);
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) rng.nextGaussian() * (i % 3 == 0 ? 0.02f : 0.1f);
        }
        return x;
    }
}
