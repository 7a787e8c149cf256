package dev.nemotron4j.tensor;

import dev.nemotron4j.formats.TensorEntry;
import dev.nemotron4j.formats.gguf.GGUFFile;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Every quantized matrix of the golden llama-quantize files, dequantized, against the same tensor of the f32 file the
 * quantizer started from. A wrong layout (nibble order, scale packing, field offsets) gives errors of the order of the
 * values themselves; the bounds below are a few times what each format really shows.
 */
class GoldenTensorTest {

    static Path golden(String model, String type) {
        String shared = System.getProperty("nemotron4j.shared", "/work/shared");
        return Path.of(shared, "golden", model, "gguf", model + "-" + type + ".gguf");
    }

    /** RMS error relative to the RMS of the f32 values, and max |error| relative to the largest |value| of its block. */
    private static double[] errors(float[] ref, float[] got, int block) {
        double errSq = 0;
        double refSq = 0;
        double worstInBlock = 0;
        for (int b = 0; b < ref.length; b += block) {
            double amax = 0;
            double emax = 0;
            for (int j = b; j < b + block; j++) {
                errSq += (double) (got[j] - ref[j]) * (got[j] - ref[j]);
                refSq += (double) ref[j] * ref[j];
                amax = Math.max(amax, Math.abs(ref[j]));
                emax = Math.max(emax, Math.abs(got[j] - ref[j]));
            }
            worstInBlock = Math.max(worstInBlock, emax / amax);
        }
        return new double[] {Math.sqrt(errSq / refSq), worstInBlock};
    }

    private static double rmsBound(GGMLType t) {
        return switch (t) {
            case F16 -> 1e-3;
            case Q8_0 -> 0.01;
            case Q6_K -> 0.03;
            case Q5_0 -> 0.06;
            case Q4_K -> 0.1;
            case Q4_0 -> 0.12;
            default -> throw new IllegalArgumentException(t.toString());
        };
    }

    /** Max error over a 32-value run as a fraction of its largest |value| (clamping at the format's ends included). */
    private static double blockBound(GGMLType t) {
        return switch (t) {
            case F16 -> 1e-3;
            case Q8_0 -> 0.006;
            case Q6_K -> 0.04;
            case Q5_0 -> 0.07;
            case Q4_0 -> 0.13;
            case Q4_K -> 0.2;
            default -> throw new IllegalArgumentException(t.toString());
        };
    }

    @ParameterizedTest
    @CsvSource({"tiny-nemotron, f16", "tiny-nemotron, q8_0", "tiny-nemotron, q4_0", "tiny-nemotron, q4_k",
            "tiny-nemotron-k256, f16", "tiny-nemotron-k256, q8_0", "tiny-nemotron-k256, q4_0",
            "tiny-nemotron-k256, q4_k", "tiny-nemotron-k256, q6_k"})
    void dequantizedMatchesF32Source(String model, String type) {
        Path quantized = golden(model, type);
        assumeTrue(Files.exists(quantized), "golden data not present: " + quantized);
        Set<GGMLType> seen = EnumSet.noneOf(GGMLType.class);
        try (GGUFFile q = GGUFFile.open(quantized); GGUFFile f32 = GGUFFile.open(golden(model, "f32"))) {
            for (TensorEntry entry : q.tensors().values()) {
                if (entry.type() == GGMLType.F32) {
                    continue;
                }
                WeightTensor w = entry.asMatrix();
                float[] got = w.toFloatArray();
                float[] ref = f32.tensor(entry.name()).toFloatArray();
                assertEquals(ref.length, got.length, entry.name());
                double[] e = errors(ref, got, 32);
                String what = type + " " + entry.name() + " (" + entry.type() + ")";
                assertTrue(e[0] < rmsBound(entry.type()), what + ": relative RMS error " + e[0]);
                assertTrue(e[1] < blockBound(entry.type()), what + ": worst error in a block / its max " + e[1]);
                seen.add(entry.type());
            }
        }
        assertTrue(!seen.isEmpty(), "no quantized tensor in " + quantized);
    }
}
