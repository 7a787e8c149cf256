package dev.nemotron4j.model;

import dev.nemotron4j.tensor.GGMLType;
import dev.nemotron4j.tensor.PackedTensor;
import dev.nemotron4j.tensor.TestTensors;
import dev.nemotron4j.tensor.WeightTensor;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.lang.foreign.Arena;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;

/** Loading packs every format that has a packed form into it, with the same values; the others stay as they are. */
class WeightPackerTest {
    @ParameterizedTest
    @EnumSource(value = GGMLType.class, names = {"Q4_0", "Q4_1", "Q8_0", "Q4_K", "Q5_K", "Q6_K", "Q5_0", "F16"})
    void packsWhatHasAPackedForm(GGMLType type) {
        int rows = 3;
        int cols = 2 * PackedTensor.LANES * 32 + 256; // two whole groups and a tail super-block
        WeightTensor source = TestTensors.random(type, rows, cols, 3);
        float[][] expected = new float[rows][cols];
        for (int r = 0; r < rows; r++) {
            source.dequantizeRow(r, expected[r], 0); // before packing: Q4_0, Q4_1 and Q8_0 are packed in place
        }
        try (Arena arena = Arena.ofConfined()) {
            WeightTensor packed = new WeightPacker(true, arena).apply(source);
            if (!PackedTensor.packs(type)) {
                assertSame(source, packed);
                return;
            }
            assertInstanceOf(PackedTensor.class, packed);
            assertEquals(type, packed.type());
            float[] got = new float[cols];
            for (int r = 0; r < rows; r++) {
                packed.dequantizeRow(r, got, 0);
                for (int c = 0; c < cols; c++) {
                    // d·scale·q − dmin·min rounds once in the packed K formats, twice in theirs; Q6_K's scales are f16
                    assertEquals(expected[r][c], got[c], 1e-3f * Math.max(1f, Math.abs(expected[r][c])),
                            type + " row " + r + " column " + c);
                }
            }
        }
    }
}
