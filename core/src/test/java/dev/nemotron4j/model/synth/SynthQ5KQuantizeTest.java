package dev.nemotron4j.model.synth;

import dev.nemotron4j.tensor.GGMLType;
import dev.nemotron4j.tensor.Q4_KTensor;
import dev.nemotron4j.tensor.Q5_KTensor;
import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;

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
        float[] x = SynthQ4KQuantizeTest.weights(rows * cols);
        MemorySegment q5 = MemorySegment.ofArray(new byte[(int) GGMLType.Q5_K.byteSize(x.length)]);
        Q5_KTensor.quantize(x, 0, x.length, q5, 0);
        MemorySegment q4 = MemorySegment.ofArray(new byte[(int) GGMLType.Q4_K.byteSize(x.length)]);
        Q4_KTensor.quantize(x, 0, x.length, q4, 0);
        double q5Error = SynthQ4KQuantizeTest.relativeRmsError(x, new Q5_KTensor(q5, rows, cols));
        double q4Error = SynthQ4KQuantizeTest.relativeRmsError(x, new Q4_KTensor(q4, rows, cols));
        assertTrue(q5Error < 0.6 * q4Error && q5Error > 0.3 * q4Error, "Q5_K " + q5Error + ", Q4_K " + q4Error);
    }
}
