package dev.nemotron4j.model.synth;

import dev.nemotron4j.tensor.GGMLType;
import dev.nemotron4j.tensor.Q4_KTensor;
import dev.nemotron4j.tensor.Q5_KTensor;
import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The Q5_K quantizer the synthesizer uses (no golden file has Q5_K to compare with llama-quantize): its round trip
 * through the Q5_K reader, whose layout is checked against ggml's dequantizer elsewhere, loses about half of what
 * Q4_K's does, as one more bit per value should.
 */
class SynthQ5KQuantizeTest {
    @Test
    void roundTripLosesAboutHalfOfQ4K() {
        int rows = 8;
        int cols = 512;
        Random rng = new Random(3);
        float[] x = new float[rows * cols];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) rng.nextGaussian() * (i % 3 == 0 ? 0.02f : 0.1f);
        }
        MemorySegment q5 = MemorySegment.ofArray(new byte[(int) GGMLType.Q5_K.byteSize(x.length)]);
        Q5_KTensor.quantize(x, 0, x.length, q5, 0);
        MemorySegment q4 = MemorySegment.ofArray(new byte[(int) GGMLType.Q4_K.byteSize(x.length)]);
        Q4_KTensor.quantize(x, 0, x.length, q4, 0);
        double q5Error = relativeRmsError(x, new Q5_KTensor(q5, rows, cols)::dequantizeRow, rows, cols);
        double q4Error = relativeRmsError(x, new Q4_KTensor(q4, rows, cols)::dequantizeRow, rows, cols);
        assertTrue(q5Error < 0.6 * q4Error && q5Error > 0.3 * q4Error, "Q5_K " + q5Error + ", Q4_K " + q4Error);
    }

    private interface RowReader {
        void read(int row, float[] out, int offset);
    }

    private static double relativeRmsError(float[] x, RowReader reader, int rows, int cols) {
        float[] back = new float[x.length];
        for (int r = 0; r < rows; r++) {
            reader.read(r, back, r * cols);
        }
        double err = 0;
        double norm = 0;
        for (int i = 0; i < x.length; i++) {
            err += (x[i] - back[i]) * (x[i] - back[i]);
            norm += x[i] * x[i];
        }
        return Math.sqrt(err / norm);
    }
}
