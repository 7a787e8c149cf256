package dev.nemotron4j.tensor;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.EnumSource;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The packed Q4_0/Q8_0 layouts against the formats they come from: same values, the integer kernel against its scalar
 * reference, and both against the float dot product within what 8-bit activations cost.
 */
class PackedTensorTest {
    private static final int GROUP = 32 * PackedTensor.LANES;

    private static WeightTensor source(GGMLType type, int rows, int cols, long seed) {
        return WeightTensor.of(type, WeightTensorKernelsTest.randomTensor(type, rows, cols, seed), rows, cols);
    }

    private static PackedTensor pack(WeightTensor source, MemorySegment dst) {
        if (source instanceof Q4_0Tensor q) {
            Q4_0PackedTensor.pack(q, dst, 0, q.rows());
            return Q4_0PackedTensor.of(dst, q.rows(), q.cols());
        }
        Q8_0PackedTensor.pack((Q8_0Tensor) source, dst, 0, source.rows());
        return Q8_0PackedTensor.of(dst, source.rows(), source.cols());
    }

    private static PackedTensor pack(WeightTensor source) {
        return pack(source, Arena.ofAuto().allocate(source.data().byteSize()));
    }

    private static float[] gaussian(int n, long seed) {
        Random rnd = new Random(seed);
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) rnd.nextGaussian() * (i % 97 == 0 ? 20f : 1f); // a few outliers, as real activations have
        }
        return x;
    }

    /** Whole groups only, and whole groups followed by a tail of 8 blocks (as an 11520-wide row has). */
    @ParameterizedTest(name = "{0} cols = groups·{1} + {2}")
    @CsvSource({"Q4_0, 1, 0", "Q4_0, 2, 0", "Q4_0, 1, 256", "Q8_0, 1, 0", "Q8_0, 2, 0", "Q8_0, 2, 256"})
    void packedMatchesSource(GGMLType type, int groups, int tail) {
        int cols = groups * GROUP + tail;
        int rows = 7;
        WeightTensor source = source(type, rows, cols, 11);
        PackedTensor packed = pack(source);
        assertEquals(type, packed.type());
        float[] expected = new float[cols];
        float[] got = new float[cols];
        float[] stored = new float[cols];
        int[] order = packed.storedOrder();
        for (int r = 0; r < rows; r++) {
            source.dequantizeRow(r, expected, 0);
            packed.dequantizeRow(r, got, 0);
            assertArrayEquals(expected, got, "row " + r);
            packed.dequantizeRowStored(r, stored, 0);
            for (int p = 0; p < cols; p++) {
                assertEquals(expected[order[p]], stored[p], "row " + r + " stored position " + p);
            }
        }

        int n = 3;
        float[] x = gaussian(n * cols, 5);
        Q8Activations q = new Q8Activations();
        q.quantize(x, n, cols);
        float[] out = new float[n * rows];
        packed.matmul(q, out, 0, rows);
        for (int r = 0; r < rows; r++) {
            for (int t = 0; t < n; t++) {
                float reference = packed.dotScalar(r, q, t);
                float exact = source.dotScalar(r, x, t * cols);
                double magnitude = 0;
                source.dequantizeRow(r, expected, 0);
                for (int c = 0; c < cols; c++) {
                    magnitude += Math.abs(expected[c] * x[t * cols + c]);
                }
                String what = type + " row " + r + " vector " + t;
                assertEquals(reference, out[t * rows + r], 1e-5 * magnitude, what + ": kernel vs scalar reference");
                // 8-bit activations: each value within half a step, d/2 = max|x|/254 of its block.
                assertEquals(exact, out[t * rows + r], 0.01 * magnitude, what + ": integer vs float dot");
                assertEquals(exact, packed.dot(r, x, t * cols), 1e-5 * magnitude, what + ": float dot of packed rows");
            }
        }
    }

    @ParameterizedTest
    @EnumSource(value = GGMLType.class, names = {"Q4_0", "Q8_0"})
    void packingInPlaceEqualsPackingToACopy(GGMLType type) {
        int cols = GROUP + 128;
        WeightTensor source = source(type, 5, cols, 3);
        MemorySegment copy = Arena.ofAuto().allocate(source.data().byteSize());
        copy.copyFrom(source.data());
        PackedTensor elsewhere = pack(source);
        pack(WeightTensor.of(type, copy, 5, cols), copy);
        assertEquals(-1, elsewhere.data().mismatch(copy));
    }

    /** The activations carry the same 8-bit values and scales as ggml's Q8_0 quantizer gives the same numbers. */
    @org.junit.jupiter.api.Test
    void activationsQuantizeLikeQ8_0() {
        int cols = GROUP + 96;
        float[] x = gaussian(2 * cols, 9);
        x[5] = 0f;
        for (int j = 32; j < 64; j++) {
            x[j] = 0f; // an all-zero block gets scale 0
        }
        Q8Activations q = new Q8Activations();
        q.quantize(x, 2, cols);
        MemorySegment ref = Arena.ofAuto().allocate(GGMLType.Q8_0.byteSize(2L * cols));
        Q8_0Tensor.quantize(x, 0, 2 * cols, ref, 0);
        Q8_0Tensor reference = (Q8_0Tensor) WeightTensor.of(GGMLType.Q8_0, ref, 2, cols);
        float[] dequantized = reference.toFloatArray();
        for (int t = 0; t < 2; t++) {
            for (int c = 0; c < cols; c++) {
                float d = q.scale(t, c / 32);
                assertEquals(dequantized[t * cols + c], q.value(t, c) * Float.float16ToFloat(Float.floatToFloat16(d)),
                        1e-6f, "vector " + t + " column " + c);
            }
        }
        for (int b = 0; b < cols / 32; b++) {
            int low = 0;
            for (int j = 0; j < 16; j++) {
                low += q.value(0, b * 32 + j);
            }
            assertEquals((short) (-8 * low), q.lowOffsets[b]);
        }
        assertTrue(q.scale(0, 1) == 0f);
    }
}
