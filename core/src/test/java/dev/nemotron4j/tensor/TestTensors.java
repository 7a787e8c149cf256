package dev.nemotron4j.tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/** Random but valid tensors of every format, and their packed forms, for the tests of this and other packages. */
public final class TestTensors {
    private TestTensors() {
    }

    public static WeightTensor random(GGMLType type, int rows, int cols, long seed) {
        return WeightTensor.of(type, WeightTensorKernelsTest.randomTensor(type, rows, cols, seed), rows, cols);
    }

    public static PackedTensor pack(WeightTensor source, MemorySegment dst) {
        int rows = source.rows();
        int cols = source.cols();
        return switch (source) {
            case Q4_0Tensor q -> {
                Q4_0PackedTensor.pack(q, dst, 0, rows);
                yield Q4_0PackedTensor.of(dst, rows, cols);
            }
            case Q4_1Tensor q -> {
                Q4_1PackedTensor.pack(q, dst, 0, rows);
                yield Q4_1PackedTensor.of(dst, rows, cols);
            }
            case Q4_KTensor q -> {
                Q4_KPackedTensor.pack(q, dst, 0, rows);
                yield Q4_KPackedTensor.of(dst, rows, cols);
            }
            case Q5_KTensor q -> {
                Q5_KPackedTensor.pack(q, dst, 0, rows);
                yield Q5_KPackedTensor.of(dst, rows, cols);
            }
            case Q6_KTensor q -> {
                Q6_KPackedTensor.pack(q, dst, 0, rows);
                yield Q6_KPackedTensor.of(dst, rows, cols);
            }
            default -> {
                Q8_0PackedTensor.pack((Q8_0Tensor) source, dst, 0, rows);
                yield Q8_0PackedTensor.of(dst, rows, cols);
            }
        };
    }

    public static PackedTensor pack(WeightTensor source) {
        long values = (long) source.rows() * source.cols();
        long bytes = switch (source.type()) {
            case Q4_K -> Q4_KPackedTensor.byteSize(source.rows(), source.cols());
            case Q5_K -> Q5_KPackedTensor.byteSize(source.rows(), source.cols());
            case Q6_K -> Q6_KPackedTensor.byteSize(source.rows(), source.cols());
            default -> source.type().byteSize(values);
        };
        return pack(source, Arena.ofAuto().allocate(bytes));
    }
}
