package dev.nemotron4j.tensor;

import dev.nemotron4j.formats.TensorEntry;
import dev.nemotron4j.formats.gguf.GGUFFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

class QuantizerTest {

    interface Quantizer {
        void quantize(float[] src, int srcOffset, int n, MemorySegment dst, long dstOffset);
    }

    private static Quantizer quantizerFor(GGMLType type) {
        return switch (type) {
            case Q8_0 -> Q8_0Tensor::quantize;
            case Q4_0 -> Q4_0Tensor::quantize;
            case F16 -> F16Tensor::quantize;
            default -> null;
        };
    }

    /**
     * The f32 golden tensors quantized here must reproduce llama-quantize's bytes. Every Q8_0, Q4_0 and F16 tensor of the
     * file is checked, so q4_0 files also check their Q8_0 output.weight.
     */
    @ParameterizedTest
    @CsvSource({"tiny-nemotron, q8_0", "tiny-nemotron, q4_0", "tiny-nemotron, f16", "tiny-nemotron-k256, q8_0",
            "tiny-nemotron-k256, q4_0", "tiny-nemotron-k256, f16", "tiny-mistral, q8_0", "tiny-mistral, q4_0"})
    void reproducesLlamaQuantizeBytes(String model, String type) {
        Path quantized = GoldenTensorTest.golden(model, type);
        assumeTrue(Files.exists(quantized), "golden data not present: " + quantized);
        int tensors = 0;
        try (GGUFFile q = GGUFFile.open(quantized); GGUFFile f32 = GGUFFile.open(GoldenTensorTest.golden(model, "f32"))) {
            for (TensorEntry entry : q.tensors().values()) {
                Quantizer quantizer = quantizerFor(entry.type());
                if (quantizer == null) {
                    continue;
                }
                float[] src = f32.tensor(entry.name()).toFloatArray();
                MemorySegment mine = Arena.ofAuto().allocate(entry.data().byteSize());
                quantizer.quantize(src, 0, src.length, mine, 0);
                long blocks = entry.data().byteSize() / entry.type().typeSize;
                int differing = 0;
                for (long b = 0; b < blocks; b++) {
                    long at = b * entry.type().typeSize;
                    long end = at + entry.type().typeSize;
                    if (MemorySegment.mismatch(mine, at, end, entry.data(), at, end) != -1) {
                        differing++;
                    }
                }
                assertEquals(0, differing, entry.name() + " (" + entry.type() + "): blocks differing from llama-quantize, of "
                        + blocks);
                tensors++;
            }
        }
        assertTrue(tensors > 0, "nothing compared in " + quantized);
    }

    private static float[] randomValues(int n, long seed) {
        Random rnd = new Random(seed);
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) (rnd.nextGaussian() * Math.exp(rnd.nextGaussian()));
        }
        v[5] = 0f;
        Arrays.fill(v, 64, 96, 0f); // an all-zero block must give d = 0, not NaN
        return v;
    }

    /** Dequantized values stay within {@code fraction} of the largest magnitude of their 32-value block. */
    private static void checkRoundTrip(GGMLType type, Quantizer quantizer, double fraction) {
        int rows = 3;
        int cols = 256;
        float[] src = randomValues(rows * cols + 7, type.id);
        MemorySegment seg = Arena.ofAuto().allocate(type.byteSize((long) rows * cols));
        quantizer.quantize(src, 7, rows * cols, seg, 0);
        float[] back = WeightTensor.of(type, seg, rows, cols).toFloatArray();
        for (int b = 0; b < back.length; b += 32) {
            double amax = 0;
            for (int j = b; j < b + 32; j++) {
                amax = Math.max(amax, Math.abs(src[7 + j]));
            }
            for (int j = b; j < b + 32; j++) {
                assertEquals(src[7 + j], back[j], fraction * amax + 1e-30, type + " value " + j);
            }
        }
    }

    @Test
    void roundTripErrorIsBoundedByTheFormat() {
        // half a step plus the f16 rounding of the scale; Q4_0's positive end clamps to 7/8 of the extreme
        checkRoundTrip(GGMLType.Q8_0, Q8_0Tensor::quantize, 0.5 / 127 + 1e-3);
        checkRoundTrip(GGMLType.Q4_0, Q4_0Tensor::quantize, 1.0 / 8 + 1e-3);
        checkRoundTrip(GGMLType.F16, F16Tensor::quantize, 1.0 / 1024);
        checkRoundTrip(GGMLType.BF16, BF16Tensor::quantize, 1.0 / 128);
    }

    @Test
    void kQuantRoundTripErrorIsBoundedByTheFormat() {
        // Q4_K: half of a 15-step range of at most 2·max, plus 6-bit scale/min rounding; Q6_K: half of 1/32 plus rounding
        checkRoundTrip(GGMLType.Q4_K, Q4_KTensor::quantize, 0.12);
        checkRoundTrip(GGMLType.Q6_K, Q6_KTensor::quantize, 0.03);
    }

    /** On the golden weights the simple K quantizers must be about as accurate as llama-quantize's search. */
    @ParameterizedTest
    @CsvSource({"q4_k, Q4_K, 1.2", "q6_k, Q6_K, 1.2"})
    void kQuantizersAreCloseToLlamaQuantizeAccuracy(String file, GGMLType type, double allowedRatio) {
        String model = "tiny-nemotron-k256";
        Path quantized = GoldenTensorTest.golden(model, file);
        assumeTrue(Files.exists(quantized), "golden data not present: " + quantized);
        Quantizer quantizer = type == GGMLType.Q4_K ? Q4_KTensor::quantize : Q6_KTensor::quantize;
        try (GGUFFile q = GGUFFile.open(quantized); GGUFFile f32 = GGUFFile.open(GoldenTensorTest.golden(model, "f32"))) {
            TensorEntry theirs = q.tensor("blk.0.attn_q.weight");
            assertEquals(type, theirs.type());
            float[] src = f32.tensor(theirs.name()).toFloatArray();
            MemorySegment mine = Arena.ofAuto().allocate(theirs.data().byteSize());
            quantizer.quantize(src, 0, src.length, mine, 0);
            WeightTensor ref = theirs.asMatrix();
            double ours = rmsError(src, WeightTensor.of(type, mine, ref.rows(), ref.cols()).toFloatArray());
            double llama = rmsError(src, ref.toFloatArray());
            assertTrue(ours < allowedRatio * llama, type + ": relative RMS error " + ours + " vs llama-quantize " + llama);
        }
    }

    private static double rmsError(float[] ref, float[] got) {
        double err = 0;
        double sq = 0;
        for (int i = 0; i < ref.length; i++) {
            err += (double) (got[i] - ref[i]) * (got[i] - ref[i]);
            sq += (double) ref[i] * ref[i];
        }
        return Math.sqrt(err / sq);
    }

    @Test
    void q8RoundsHalvesAwayFromZero() {
        assertEquals(3, Q8_0Tensor.roundHalfAway(2.5f));
        assertEquals(-3, Q8_0Tensor.roundHalfAway(-2.5f));
        assertEquals(0, Q8_0Tensor.roundHalfAway(0.49999997f));
        assertEquals(-127, Q8_0Tensor.roundHalfAway(-127f));
    }

    @Test
    void partialBlocksAreRefused() {
        MemorySegment seg = Arena.ofAuto().allocate(1024);
        assertThrows(IllegalArgumentException.class, () -> Q8_0Tensor.quantize(new float[40], 0, 40, seg, 0));
        assertThrows(IllegalArgumentException.class, () -> Q4_0Tensor.quantize(new float[40], 0, 40, seg, 0));
        assertThrows(IllegalArgumentException.class, () -> Q4_KTensor.quantize(new float[288], 0, 288, seg, 0));
        assertThrows(IllegalArgumentException.class, () -> Q6_KTensor.quantize(new float[288], 0, 288, seg, 0));
    }
}
