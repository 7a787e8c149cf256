package dev.nemotron4j.tensor;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.EnumSource;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The packed Q4_0/Q4_1/Q8_0/Q4_K/Q5_K/Q6_K layouts against the formats they come from: same values, the
 * integer kernel against its scalar reference, and both against the float dot product within what 8-bit activations
 * cost.
 */
class PackedTensorTest {
    private static final int GROUP = 32 * PackedTensor.LANES;

    private static WeightTensor source(GGMLType type, int rows, int cols, long seed) {
        return TestTensors.random(type, rows, cols, seed);
    }

    private static PackedTensor pack(WeightTensor source, MemorySegment dst) {
        return TestTensors.pack(source, dst);
    }

    private static PackedTensor pack(WeightTensor source) {
        return TestTensors.pack(source);
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
    @CsvSource({"Q4_0, 1, 0", "Q4_0, 2, 0", "Q4_0, 1, 256", "Q8_0, 1, 0", "Q8_0, 2, 0", "Q8_0, 2, 256",
            "Q4_1, 1, 0", "Q4_1, 2, 256", "Q4_K, 1, 0", "Q4_K, 2, 256", "Q5_K, 1, 0", "Q5_K, 2, 256", "Q6_K, 1, 0",
            "Q6_K, 2, 256"})
    void packedMatchesSource(GGMLType type, int groups, int tail) {
        int cols = groups * GROUP + tail;
        int rows = 11; // Q4_0 and Q4_K: a whole quad of rows, and rows of cut and partial ones
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
            packed.dequantizeRowStored(r, stored, 0);
            float rowMax = 0f;
            for (float v : expected) {
                rowMax = Math.max(rowMax, Math.abs(v));
            }
            for (int c = 0; c < cols; c++) {
                // Q4_K and Q5_K take d·scale·u − dmin·min in one rounding (a fused multiply-add) where the source
                // takes two.
                // Q6_K's scales d·scale are rounded to f16, and a value is scale·(q − 32): 2^-11 of it.
                float tolerance = switch (type) {
                    case Q4_K, Q5_K -> 0x1p-22f * rowMax;
                    case Q6_K -> 0x1p-11f * Math.abs(expected[c]);
                    default -> 0f;
                };
                assertEquals(expected[c], got[c], tolerance, "row " + r + " column " + c);
                // The stored form of Q4_K and Q5_K takes a high nibble as (u − 8)·d + (8d + m), where the sum 8d + m
                // rounds once more.
                float storedTolerance = type == GGMLType.Q4_K || type == GGMLType.Q5_K ? 0x1p-22f * rowMax : 0f;
                assertEquals(got[order[c]], stored[c], storedTolerance, "row " + r + " stored position " + c);
            }
        }

        // Seven vectors: Q4_0 and Q4_K take four at a time, then two, then one; and one vector alone, as decoding
        // takes them.
        for (int n : new int[] {7, 1}) {
            checkMatmul(packed, rows, cols, n, expected);
        }
    }

    private static void checkMatmul(PackedTensor packed, int rows, int cols, int n, float[] expected) {
        GGMLType type = packed.type();
        float[] x = gaussian(n * cols, 5);
        Q8Activations q = new Q8Activations();
        q.quantize(x, n, cols);
        float[] out = new float[n * rows];
        // Two ranges, as threads split the rows: the first ends inside Q4_0's first quad of rows.
        packed.matmul(q, out, 0, 3);
        packed.matmul(q, out, 3, rows);
        for (int r = 0; r < rows; r++) {
            for (int t = 0; t < n; t++) {
                float reference = packed.dotScalar(r, q, t);
                float exact = packed.dotScalar(r, x, t * cols); // the source's values, checked above
                double magnitude = 0;
                packed.dequantizeRow(r, expected, 0);
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

    /**
     * The integer form (scale · q + offset per block, in stored order) gives the rows' values, q within [−8, 7];
     * a run of rows that starts inside a quad and crosses into the next decodes as each row alone.
     */
    @ParameterizedTest(name = "{0} cols = groups·{1} + {2}")
    @CsvSource({"Q4_0, 1, 0", "Q4_0, 2, 256", "Q4_K, 1, 0", "Q4_K, 2, 256"})
    void integerFormGivesTheValues(GGMLType type, int groups, int tail) {
        int cols = groups * GROUP + tail;
        int rows = 7;
        PackedTensor packed = pack(source(type, rows, cols, 17));
        IntegerRows integers = (IntegerRows) packed;
        int group = 32;
        int blocks = cols / group;
        short[] q = new short[4 + rows * cols];
        float[] scales = new float[2 + rows * blocks];
        float[] offsets = new float[2 + rows * blocks];
        integers.decodeRowsInt(0, 1, q, 4, cols, scales, offsets, 2, blocks);
        integers.decodeRowsInt(1, rows - 1, q, 4 + cols, cols, scales, offsets, 2 + blocks, blocks);
        float[] expected = new float[cols];
        int[] order = packed.storedOrder();
        for (int r = 0; r < rows; r++) {
            packed.dequantizeRow(r, expected, 0);
            float rowMax = 0f;
            for (float v : expected) {
                rowMax = Math.max(rowMax, Math.abs(v));
            }
            for (int p = 0; p < cols; p++) {
                int c = order[p];
                int g = 2 + r * blocks + c / group;
                int at = 4 + r * cols + p;
                assertTrue(q[at] >= -8 && q[at] <= 7, "q " + q[at] + " at " + p);
                float value = scales[g] * q[at] + (integers.intOffsets() ? offsets[g] : 0f);
                assertEquals(expected[c], value, 0x1p-20f * rowMax, type + " row " + r + " column " + c);
            }
        }
    }

    @ParameterizedTest
    @EnumSource(value = GGMLType.class, names = {"Q4_0", "Q4_1", "Q8_0"})
    void packingInPlaceEqualsPackingToACopy(GGMLType type) {
        int cols = GROUP + 128;
        int rows = type == GGMLType.Q4_0 ? 8 : 5; // Q4_0 packs in place only whole quads of rows
        WeightTensor source = source(type, rows, cols, 3);
        MemorySegment copy = Arena.ofAuto().allocate(source.data().byteSize());
        copy.copyFrom(source.data());
        PackedTensor elsewhere = pack(source);
        pack(WeightTensor.of(type, copy, rows, cols), copy);
        assertEquals(-1, elsewhere.data().mismatch(copy));
    }

    /** A Q6_K super-block scale whose products with the sub-block scales leave the f16 range is reported. */
    @org.junit.jupiter.api.Test
    void q6_KScalesBeyondHalfPrecisionAreReported() {
        Q6_KTensor q6k = (Q6_KTensor) source(GGMLType.Q6_K, 2, GROUP, 4);
        MemorySegment dst = Arena.ofAuto().allocate(Q6_KPackedTensor.byteSize(2, GROUP));
        assertTrue(Q6_KPackedTensor.pack(q6k, dst, 0, 2));
        q6k.data().set(Simd.LE_SHORT, 210L + 208, Float.floatToFloat16(1000f)); // d of row 0's 2nd super-block
        assertFalse(Q6_KPackedTensor.pack(q6k, dst, 0, 1));
        assertTrue(Q6_KPackedTensor.pack(q6k, dst, 1, 2));
    }

    /**
     * Q6_K's octet sums at their extremes, where eight products q·x leave 16 bits and only the wrapped sum from
     * −32·Σx lands back in range: q = 0 and q = 63 against activations of +127 and −127 (rows of one constant), in
     * whole groups and in the tail.
     */
    @org.junit.jupiter.api.Test
    void q6_KOctetSumsAtTheirExtremesAreExact() {
        int cols = GROUP + 256;
        float d = 0.25f;
        MemorySegment data = Arena.ofAuto().allocate(GGMLType.Q6_K.byteSize(2L * cols));
        for (long block = 0; block < data.byteSize(); block += 210) {
            byte bits = block < GGMLType.Q6_K.byteSize(cols) ? 0 : (byte) 0xff; // row 0: q = 0, row 1: q = 63
            data.asSlice(block, 192).fill(bits);
            data.asSlice(block + 192, 16).fill((byte) 1);
            data.set(Simd.LE_SHORT, block + 208, Float.floatToFloat16(d));
        }
        PackedTensor packed = pack(WeightTensor.of(GGMLType.Q6_K, data, 2, cols));
        float[] x = new float[2 * cols];
        Arrays.fill(x, 0, cols, 1f);
        Arrays.fill(x, cols, 2 * cols, -1f);
        Q8Activations q = new Q8Activations();
        q.quantize(x, 2, cols);
        float[] out = new float[4];
        packed.matmul(q, out, 0, 2);
        for (int r = 0; r < 2; r++) {
            for (int t = 0; t < 2; t++) {
                float exact = cols * d * (r == 0 ? -32 : 31) * (t == 0 ? 1 : -1);
                assertEquals(exact, packed.dotScalar(r, q, t), 1e-5f * Math.abs(exact), "reference, row " + r);
                assertEquals(exact, out[t * 2 + r], 1e-5f * Math.abs(exact), "kernel, row " + r + " vector " + t);
            }
        }
    }

    /**
     * Q4_0's block sums at their extremes, where the four rows of a quad share each short and only the wrapped sums
     * give each row back: nibbles 0 and 15 in every order over two quads, against activations of +127 and −127, in
     * whole groups and in the tail; six vectors, four at a time, then two.
     */
    @org.junit.jupiter.api.Test
    void q4_0QuadSumsAtTheirExtremesAreExact() {
        int cols = GROUP + 256;
        int rows = 8;
        int[] nibbles = {0, 15, 15, 0, 15, 0, 15, 0};
        float d = 0.5f;
        long rowBytes = GGMLType.Q4_0.byteSize(cols);
        MemorySegment data = Arena.ofAuto().allocate(rowBytes * rows);
        for (int r = 0; r < rows; r++) {
            for (long block = r * rowBytes; block < (r + 1) * rowBytes; block += 18) {
                data.set(Simd.LE_SHORT, block, Float.floatToFloat16(d));
                data.asSlice(block + 2, 16).fill((byte) (nibbles[r] * 0x11));
            }
        }
        PackedTensor packed = pack(WeightTensor.of(GGMLType.Q4_0, data, rows, cols));
        int n = 6;
        float[] x = new float[n * cols];
        for (int t = 0; t < n; t++) {
            Arrays.fill(x, t * cols, (t + 1) * cols, t % 2 == 0 ? 1f : -1f);
        }
        Q8Activations q = new Q8Activations();
        q.quantize(x, n, cols);
        float[] out = new float[n * rows];
        packed.matmul(q, out, 0, rows);
        for (int r = 0; r < rows; r++) {
            for (int t = 0; t < n; t++) {
                float exact = cols * d * (nibbles[r] - 8) * (t % 2 == 0 ? 1 : -1);
                assertEquals(exact, packed.dotScalar(r, q, t), 1e-5f * Math.abs(exact), "reference, row " + r);
                assertEquals(exact, out[t * rows + r], 1e-5f * Math.abs(exact), "kernel, row " + r + " vector " + t);
            }
        }
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
            int all = 0;
            for (int j = 0; j < 32; j++) {
                all += q.value(0, b * 32 + j);
            }
            assertEquals((short) (-8 * all), q.q4Offsets[b]);
            assertEquals(q.scale(0, b) * all, q.sum(0, b), 0f);
            for (int o = 0; o < 4; o++) {
                int octet = 0;
                for (int j = 8 * o; j < 8 * o + 8; j++) {
                    octet += q.value(0, b * 32 + j);
                }
                assertEquals((short) (-32 * octet), q.q6Offsets[o * (cols / 32) + b]);
            }
        }
        assertTrue(q.scale(0, 1) == 0f);
    }
}
