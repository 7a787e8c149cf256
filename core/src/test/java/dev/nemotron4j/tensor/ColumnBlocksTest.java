package dev.nemotron4j.tensor;

import dev.nemotron4j.kernels.Matmul;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ColumnBlocksTest {
    private static final int GROUP = PackedTensor.QK * PackedTensor.LANES;
    /** Eleven whole groups and a tail of one K super-block: three blocks, the last with the tail. */
    private static final int COLS = 11 * GROUP + 256;
    /** Not whole quads of rows. */
    private static final int ROWS = 10;

    @ParameterizedTest
    @EnumSource(value = GGMLType.class, names = {"Q4_0", "Q4_1", "Q8_0", "Q4_K", "Q5_K", "Q6_K"})
    void blocksHoldTheMatrixAndMultiplyAsOnePackedMatrix(GGMLType type) {
        WeightTensor source = TestTensors.random(type, ROWS, COLS, 7);
        assertTrue(ColumnBlocks.splits(type, COLS));
        assertFalse(ColumnBlocks.splits(type, 4 * GROUP));
        long bytes = ColumnBlocks.byteSize(type, ROWS, COLS);
        assertEquals(PackedTensor.byteSize(type, ROWS, COLS), bytes);
        MemorySegment dst = Arena.ofAuto().allocate(bytes);
        // Two ranges, as the packer's threads split the rows.
        int together = PackedTensor.packedRows(type);
        int middle = 2 * together;
        assertTrue(ColumnBlocks.pack(source, dst, 0, middle));
        assertTrue(ColumnBlocks.pack(source, dst, middle, ROWS));
        ColumnBlocks blocks = ColumnBlocks.view(type, dst, ROWS, COLS);
        assertEquals(3, blocks.blockCount());
        assertEquals(COLS, blocks.blockStart(2) + blocks.block(2).cols());

        PackedTensor whole = TestTensors.pack(source);
        assertArrayEquals(whole.storedOrder(), blocks.storedOrder(), "the positions of the one packed matrix");
        float[] stored = new float[COLS];
        float[] storedWhole = new float[COLS];
        whole.dequantizeRowStored(ROWS - 1, storedWhole, 0);
        blocks.dequantizeRowStored(ROWS - 1, stored, 0);
        assertArrayEquals(storedWhole, stored, 0f);
        float[][] values = new float[ROWS][COLS];
        float[] actual = new float[COLS];
        for (int r = 0; r < ROWS; r++) {
            whole.dequantizeRow(r, values[r], 0);
            blocks.dequantizeRow(r, actual, 0);
            assertArrayEquals(values[r], actual, 0f, type + " row " + r);
        }
        for (int n : new int[] {1, 2, 3, 30}) {
            float[] x = TestTensors.gaussian(n * COLS, n);
            float[] want = new float[n * ROWS];
            float[] got = new float[n * ROWS];
            Matmul.matmul(whole, x, n, want);
            Matmul.matmul(blocks, x, n, got);
            for (int t = 0; t < n; t++) {
                for (int r = 0; r < ROWS; r++) {
                    // The blocks add their sums in another order: allow float rounding of the terms' magnitude.
                    double magnitude = 0;
                    for (int k = 0; k < COLS; k++) {
                        magnitude += Math.abs(values[r][k] * x[t * COLS + k]);
                    }
                    float tolerance = (float) (1e-5 * magnitude);
                    int i = t * ROWS + r;
                    assertEquals(want[i], got[i], tolerance, type + " n " + n + " vector " + t + " row " + r);
                    if (t == 0) {
                        assertEquals(whole.dot(r, x, 0), blocks.dot(r, x, 0), tolerance);
                        assertEquals(whole.dotScalar(r, x, 0), blocks.dotScalar(r, x, 0), tolerance);
                    }
                }
            }
        }
    }
}
