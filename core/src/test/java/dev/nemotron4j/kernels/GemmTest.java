package dev.nemotron4j.kernels;

import dev.nemotron4j.tensor.GGMLType;
import dev.nemotron4j.tensor.Q4_0Tensor;
import dev.nemotron4j.tensor.Q8_0Tensor;
import dev.nemotron4j.tensor.TestTensors;
import dev.nemotron4j.tensor.WeightTensor;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The register-blocked prompt matmul against its scalar reference, with row and vector counts off the blocks. */
class GemmTest {
    private static WeightTensor matrix(GGMLType type, int rows, int cols) {
        float[] values = TestTensors.gaussian(rows * cols, 5);
        MemorySegment data = Arena.ofAuto().allocate(type.byteSize((long) rows * cols));
        switch (type) {
            case F32 -> MemorySegment.copy(values, 0, data, ValueLayout.JAVA_FLOAT_UNALIGNED, 0, values.length);
            case Q8_0 -> Q8_0Tensor.quantize(values, 0, values.length, data, 0);
            case Q4_0 -> Q4_0Tensor.quantize(values, 0, values.length, data, 0);
            default -> throw new IllegalArgumentException(type.toString());
        }
        return WeightTensor.of(type, data, rows, cols);
    }

    @Test
    void matchesScalarReference() {
        int threads = Parallel.threads();
        try {
            for (int t : new int[] {1, 2}) {
                Parallel.setThreads(t);
                for (GGMLType type : new GGMLType[] {GGMLType.F32, GGMLType.Q8_0, GGMLType.Q4_0}) {
                    for (int[] shape : new int[][] {{37, 96}, {64, 160}}) {
                        WeightTensor w = matrix(type, shape[0], shape[1]);
                        int half = Gemm.TOKENS / 2;
                        for (int n : new int[] {1, 3, half, half + 3, Gemm.TOKENS, 2 * Gemm.TOKENS + 5}) {
                            check(w, n);
                        }
                    }
                }
            }
        } finally {
            Parallel.setThreads(threads);
        }
    }

    private static void check(WeightTensor w, int n) {
        float[] x = TestTensors.gaussian(n * w.cols(), n);
        float[] expected = new float[n * w.rows()];
        float[] actual = new float[n * w.rows()];
        Gemm.matmulScalar(w, x, n, expected);
        Gemm.matmul(w, x, n, actual);
        for (int i = 0; i < expected.length; i++) {
            assertEquals(expected[i], actual[i], 1e-4f * (1 + Math.abs(expected[i])),
                    w.type() + " " + w.rows() + "x" + w.cols() + " n=" + n + " at " + i);
        }
    }
}
