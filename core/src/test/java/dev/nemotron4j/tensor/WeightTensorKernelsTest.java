package dev.nemotron4j.tensor;

import dev.nemotron4j.formats.ModelFormatException;
import jdk.incubator.vector.IntVector;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Vector dot vs scalar dot vs dequantized row, on random but valid blocks of every supported format. */
class WeightTensorKernelsTest {
    private static final ValueLayout.OfShort LE_SHORT =
            ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfFloat LE_FLOAT =
            ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /**
     * Random bytes with every f16 scale/min field replaced by a sane value (random bytes there could be inf/NaN);
     * standard normal values for F32.
     */
    static MemorySegment randomTensor(GGMLType type, int rows, int cols, long seed) {
        Random rnd = new Random(seed);
        long bytes = type.byteSize((long) rows * cols);
        MemorySegment s = Arena.ofAuto().allocate(bytes);
        if (type == GGMLType.F32) {
            for (long i = 0; i < bytes; i += 4) {
                s.set(LE_FLOAT, i, (float) rnd.nextGaussian());
            }
            return s;
        }
        for (long i = 0; i < bytes; i++) {
            s.set(ValueLayout.JAVA_BYTE, i, (byte) rnd.nextInt(256));
        }
        int[] halfFields = switch (type) {
            case F16, BF16 -> new int[] {0};
            case Q8_0, Q4_0, Q5_0 -> new int[] {0};
            case Q4_1, Q5_1, Q4_K, Q5_K -> new int[] {0, 2};
            case Q6_K -> new int[] {208};
            default -> throw new IllegalArgumentException(type.toString());
        };
        for (long block = 0; block < bytes; block += type.typeSize) {
            for (int field : halfFields) {
                float v = (float) rnd.nextGaussian() * (type.blockSize == 1 ? 1f : 0.05f);
                short bits = type == GGMLType.BF16 ? BF16Tensor.fromFloat(v) : Float.floatToFloat16(v);
                s.set(LE_SHORT, block + field, bits);
            }
        }
        return s;
    }

    private static void checkRows(WeightTensor w, long seed) {
        Random rnd = new Random(seed);
        int xOffset = 3;
        float[] x = new float[w.cols() + xOffset + 5];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) rnd.nextGaussian();
        }
        float[] row = new float[w.cols()];
        for (int r = 0; r < w.rows(); r++) {
            w.dequantizeRow(r, row, 0);
            double exact = 0;
            double magnitude = 0;
            for (int j = 0; j < row.length; j++) {
                assertTrue(Float.isFinite(row[j]), "row " + r + " value " + j + " not finite");
                exact += (double) row[j] * x[xOffset + j];
                magnitude += Math.abs((double) row[j] * x[xOffset + j]);
            }
            double tol = 1e-5 * magnitude + 1e-30;
            String what = w.type() + " " + w.rows() + "x" + w.cols() + " row " + r;
            assertEquals(exact, w.dotScalar(r, x, xOffset), tol, what + " scalar");
            assertEquals(exact, w.dot(r, x, xOffset), tol, what + " vector");
        }
    }

    @ParameterizedTest
    @EnumSource(value = GGMLType.class, names = {"F16", "BF16", "Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q4_K", "Q5_K",
            "Q6_K"})
    void vectorScalarAndDequantizedAgree(GGMLType type) {
        int[][] shapes = type.blockSize == 1
                ? new int[][] {{3, 37}, {5, 256}, {1, 7}}
                : new int[][] {{1, type.blockSize}, {3, type.blockSize * 7}, {5, type.blockSize * 2}};
        long seed = type.id * 1000L;
        for (int[] shape : shapes) {
            WeightTensor w = WeightTensor.of(type, randomTensor(type, shape[0], shape[1], seed++), shape[0], shape[1]);
            assertEquals(type, w.type());
            checkRows(w, seed++);
        }
    }

    /** The batched matmul (tiles of vectors, row blocks, tails) against exact dots of the dequantized rows. */
    @ParameterizedTest
    @EnumSource(value = GGMLType.class, names = {"F16", "BF16", "Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q4_K", "Q5_K",
            "Q6_K"})
    void batchedMatmulMatchesScalarDots(GGMLType type) {
        // Float rows: whole vector steps and a tail.
        checkBatchedMatmul(type, 37, type.blockSize == 1 ? 104 : type.blockSize * 3, 20);
        if (type == GGMLType.F16 || type == GGMLType.BF16) {
            // Wide enough for four rows at a time, split so that both calls end in single rows.
            checkBatchedMatmul(type, 11, HalfFloatTensor.FOUR_ROWS_MIN_COLS + 24, 6);
        }
    }

    /** Rows [0, split) and [split, rows) in two calls, against exact dots of the dequantized rows. */
    private static void checkBatchedMatmul(GGMLType type, int rows, int cols, int split) {
        WeightTensor w = WeightTensor.of(type, randomTensor(type, rows, cols, 99), rows, cols);
        Random rnd = new Random(7);
        for (int n : new int[] {1, 2, 5, 8, 19}) {
            float[] x = new float[n * cols];
            for (int i = 0; i < x.length; i++) {
                x[i] = (float) rnd.nextGaussian();
            }
            float[] out = new float[n * rows];
            w.matmul(x, n, out, 0, split);
            w.matmul(x, n, out, split, rows);
            float[] row = new float[cols];
            for (int r = 0; r < rows; r++) {
                w.dequantizeRow(r, row, 0);
                for (int t = 0; t < n; t++) {
                    double exact = 0;
                    double magnitude = 0;
                    for (int j = 0; j < cols; j++) {
                        exact += (double) row[j] * x[t * cols + j];
                        magnitude += Math.abs((double) row[j] * x[t * cols + j]);
                    }
                    assertEquals(exact, out[t * rows + r], 1e-5 * magnitude + 1e-30,
                            type + " n=" + n + " row " + r + " vector " + t);
                }
            }
        }
    }

    /** The vector row decoders of the formats that have one against their scalar references, bit for bit. */
    @Test
    void vectorDequantizeMatchesScalar() {
        int rows = 3;
        int cols = 32 * 5;
        Q4_0Tensor q4 = new Q4_0Tensor(randomTensor(GGMLType.Q4_0, rows, cols, 21), rows, cols);
        Q8_0Tensor q8 = new Q8_0Tensor(randomTensor(GGMLType.Q8_0, rows, cols, 22), rows, cols);
        float[] vector = new float[cols + 3];
        float[] scalar = new float[cols + 3];
        for (int r = 0; r < rows; r++) {
            q4.dequantizeRow(r, vector, 3);
            q4.dequantizeRowScalar(r, scalar, 3);
            assertArrayEquals(scalar, vector, 0f, "Q4_0 row " + r);
            q8.dequantizeRow(r, vector, 3);
            q8.dequantizeRowScalar(r, scalar, 3);
            assertArrayEquals(scalar, vector, 0f, "Q8_0 row " + r);
        }
    }

    /** Q4_1 and Q5_1 blocks built from Q4_0/Q5_0 blocks with m = −8d / −16d must give the same values. */
    @Test
    void offsetFormatsMatchTheirSymmetricTwins() {
        int rows = 2;
        int cols = 96;
        checkTwin(GGMLType.Q4_0, GGMLType.Q4_1, 8, rows, cols);
        checkTwin(GGMLType.Q5_0, GGMLType.Q5_1, 16, rows, cols);
    }

    private static void checkTwin(GGMLType symmetric, GGMLType offset, int bias, int rows, int cols) {
        MemorySegment src = randomTensor(symmetric, rows, cols, 77);
        MemorySegment dst = Arena.ofAuto().allocate(offset.byteSize((long) rows * cols));
        long blocks = (long) rows * cols / 32;
        for (long b = 0; b < blocks; b++) {
            long from = b * symmetric.typeSize;
            long to = b * offset.typeSize;
            short d = src.get(LE_SHORT, from);
            dst.set(LE_SHORT, to, d);
            dst.set(LE_SHORT, to + 2, Float.floatToFloat16(-bias * Float.float16ToFloat(d)));
            MemorySegment.copy(src, from + 2, dst, to + 4, symmetric.typeSize - 2);
        }
        float[] expected = WeightTensor.of(symmetric, src, rows, cols).toFloatArray();
        WeightTensor twin = WeightTensor.of(offset, dst, rows, cols);
        assertArrayEquals(expected, twin.toFloatArray(), 1e-6f, offset + " vs " + symmetric);
        checkRows(twin, 5);
    }

    /** Q5_K against a literal transcription of ggml's dequantize_row_q5_K (no golden file has Q5_K). */
    @Test
    void q5kMatchesGgmlReferenceLoop() {
        int rows = 2;
        int cols = 512;
        MemorySegment s = randomTensor(GGMLType.Q5_K, rows, cols, 11);
        float[] expected = new float[rows * cols];
        int y = 0;
        for (long block = 0; block < s.byteSize(); block += 176) {
            float d = Float.float16ToFloat(s.get(LE_SHORT, block));
            float min = Float.float16ToFloat(s.get(LE_SHORT, block + 2));
            long ql = block + 48;
            int is = 0;
            int u1 = 1;
            int u2 = 2;
            for (int j = 0; j < 256; j += 64) {
                float d1 = d * scaleK4(s, block + 4, is, false);
                float m1 = min * scaleK4(s, block + 4, is, true);
                float d2 = d * scaleK4(s, block + 4, is + 1, false);
                float m2 = min * scaleK4(s, block + 4, is + 1, true);
                for (int l = 0; l < 32; l++) {
                    int q = byteAt(s, ql + l);
                    expected[y++] = d1 * ((q & 0xF) + ((byteAt(s, block + 16 + l) & u1) != 0 ? 16 : 0)) - m1;
                }
                for (int l = 0; l < 32; l++) {
                    int q = byteAt(s, ql + l);
                    expected[y++] = d2 * ((q >> 4) + ((byteAt(s, block + 16 + l) & u2) != 0 ? 16 : 0)) - m2;
                }
                ql += 32;
                is += 2;
                u1 <<= 2;
                u2 <<= 2;
            }
        }
        assertArrayEquals(expected, WeightTensor.of(GGMLType.Q5_K, s, rows, cols).toFloatArray(), 0f);
    }

    private static int byteAt(MemorySegment s, long offset) {
        return s.get(ValueLayout.JAVA_BYTE, offset) & 0xff;
    }

    /** ggml get_scale_min_k4, transcribed. */
    private static int scaleK4(MemorySegment s, long q, int j, boolean wantMin) {
        if (j < 4) {
            return wantMin ? byteAt(s, q + j + 4) & 63 : byteAt(s, q + j) & 63;
        }
        return wantMin
                ? (byteAt(s, q + j + 4) >> 4) | ((byteAt(s, q + j) >> 6) << 4)
                : (byteAt(s, q + j + 4) & 0xF) | ((byteAt(s, q + j - 4) >> 6) << 4);
    }

    /**
     * F16's decode paths (halves widened and converted, the 2¹¹² rebias applied to the sum; rows four at a time and
     * one at a time) over every finite half.
     */
    @Test
    void f16MatmulCoversEveryFiniteHalf() {
        int rows = 17;
        int cols = HalfFloatTensor.FOUR_ROWS_MIN_COLS + 24;
        MemorySegment s = Arena.ofAuto().allocate(2L * rows * cols);
        for (int i = 0; i < rows * cols; i++) {
            s.set(LE_SHORT, 2L * i, (i & 0x7c00) == 0x7c00 ? 0 : (short) i); // infinities and NaNs become zeros
        }
        WeightTensor w = WeightTensor.of(GGMLType.F16, s, rows, cols);
        Random rnd = new Random(3);
        float[] x = new float[cols];
        for (int j = 0; j < cols; j++) {
            x[j] = (float) rnd.nextGaussian();
        }
        float[] out = new float[rows];
        w.matmul(x, 1, out, 0, 9);
        w.matmul(x, 1, out, 9, rows);
        for (int r = 0; r < rows; r++) {
            double exact = 0;
            double magnitude = 0;
            for (int j = 0; j < cols; j++) {
                double v = Float.float16ToFloat(s.get(LE_SHORT, 2L * (r * cols + j))) * (double) x[j];
                exact += v;
                magnitude += Math.abs(v);
            }
            assertEquals(exact, out[r], 1e-6 * magnitude + 1e-12, "row " + r);
        }
    }

    @Test
    void halfConversionIsExactForEveryFiniteHalfIncludingSubnormalsAndSignedZero() {
        int n = 1 << 16;
        MemorySegment s = Arena.ofAuto().allocate(2L * n);
        int[] halves = new int[n];
        int[] widened = new int[n];
        for (int i = 0; i < n; i++) {
            s.set(LE_SHORT, 2L * i, (short) i);
            halves[i] = i << 16; // in the high half of a lane, as the KV cache reads them
            widened[i] = (short) i; // sign-extended, as the weight kernels' widening loads leave them
        }
        float[] scalar = WeightTensor.of(GGMLType.F16, s, 1, n).toFloatArray();
        float[] vector = new float[Simd.L];
        float[] fromWidened = new float[Simd.L];
        for (int i = 0; i < n; i += Simd.L) {
            Simd.highHalfToFloat(IntVector.fromArray(Simd.I, halves, i)).intoArray(vector, 0);
            Simd.widenedHalfUnscaled(IntVector.fromArray(Simd.I, widened, i)).mul(Simd.HALF_REBIAS)
                    .intoArray(fromWidened, 0);
            for (int lane = 0; lane < Simd.L; lane++) {
                int h = i + lane;
                int expected = Float.floatToRawIntBits(Float.float16ToFloat((short) h));
                assertEquals(expected, Float.floatToRawIntBits(scalar[h]), "scalar half 0x" + Integer.toHexString(h));
                if ((h & 0x7c00) != 0x7c00) {
                    assertEquals(expected, Float.floatToRawIntBits(vector[lane]),
                            "vector half 0x" + Integer.toHexString(h));
                    assertEquals(expected, Float.floatToRawIntBits(fromWidened[lane]),
                            "widened half 0x" + Integer.toHexString(h));
                }
            }
        }
    }

    @Test
    void bf16RoundsToNearestEven() {
        assertEquals((short) 0x3f80, BF16Tensor.fromFloat(1f));
        assertEquals((short) 0x3f80, BF16Tensor.fromFloat(1f + 0x1p-8f)); // tie, even stays
        assertEquals((short) 0x3f82, BF16Tensor.fromFloat(1f + 0x3p-8f)); // tie, odd rounds up
        assertEquals((short) 0x3f81, BF16Tensor.fromFloat(1f + 0x1.2p-8f));
        assertEquals((short) 0xbf80, BF16Tensor.fromFloat(-1f));
        assertTrue(Float.isNaN(Float.intBitsToFloat(BF16Tensor.fromFloat(Float.NaN) << 16)));
    }

    @Test
    void truncatedDataIsRefused() {
        MemorySegment s = Arena.ofAuto().allocate(33);
        ModelFormatException e = assertThrows(ModelFormatException.class,
                () -> WeightTensor.of(GGMLType.Q8_0, s, 1, 32));
        assertTrue(e.getMessage().contains("needs 34 bytes"), e.getMessage());
        MemorySegment k = Arena.ofAuto().allocate(210 * 3 - 1);
        assertThrows(ModelFormatException.class, () -> WeightTensor.of(GGMLType.Q6_K, k, 3, 256));
    }

    @Test
    void rowLengthMustBeWholeBlocks() {
        MemorySegment s = Arena.ofAuto().allocate(1024);
        ModelFormatException e = assertThrows(ModelFormatException.class,
                () -> WeightTensor.of(GGMLType.Q4_0, s, 1, 48));
        assertTrue(e.getMessage().contains("multiple of 32"), e.getMessage());
        e = assertThrows(ModelFormatException.class, () -> WeightTensor.of(GGMLType.Q4_K, s, 1, 128));
        assertTrue(e.getMessage().contains("multiple of 256"), e.getMessage());
    }

    @Test
    void unsupportedTypeIsNamed() {
        MemorySegment s = Arena.ofAuto().allocate(1024);
        ModelFormatException e = assertThrows(ModelFormatException.class,
                () -> WeightTensor.of(GGMLType.Q2_K, s, 1, 256));
        assertTrue(e.getMessage().contains("Q2_K"), e.getMessage());
    }
}
