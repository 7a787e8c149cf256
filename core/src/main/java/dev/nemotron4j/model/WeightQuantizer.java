package dev.nemotron4j.model;

import dev.nemotron4j.kernels.Parallel;
import dev.nemotron4j.model.LoadOptions.Quantize;
import dev.nemotron4j.tensor.GGMLType;
import dev.nemotron4j.tensor.Q4_0Tensor;
import dev.nemotron4j.tensor.Q8_0Tensor;
import dev.nemotron4j.tensor.WeightTensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * Quantizes float matrices (F32, F16, BF16) while a model loads, into off-heap memory of the model's arena, rows in
 * parallel, exactly as llama-quantize would (ggml's reference rounding). Other formats pass through.
 */
final class WeightQuantizer {
    private static final int BLOCK = 32;

    private final GGMLType target;
    private final Arena arena;

    WeightQuantizer(Quantize quantize, Arena arena) {
        this.target = switch (quantize) {
            case NONE -> null;
            case Q8_0 -> GGMLType.Q8_0;
            case Q4_0 -> GGMLType.Q4_0;
        };
        this.arena = arena;
    }

    WeightTensor apply(WeightTensor m) {
        GGMLType type = m.type();
        boolean isFloat = type == GGMLType.F32 || type == GGMLType.F16 || type == GGMLType.BF16;
        if (target == null || !isFloat || m.cols() % BLOCK != 0) {
            return m;
        }
        int rows = m.rows();
        int cols = m.cols();
        long rowBytes = target.byteSize(cols);
        MemorySegment dst = arena.allocate(rowBytes * rows, 64);
        Parallel.forRange(rows, 64, (from, to) -> {
            float[] row = new float[cols];
            for (int r = from; r < to; r++) {
                m.dequantizeRow(r, row, 0);
                if (target == GGMLType.Q8_0) {
                    Q8_0Tensor.quantize(row, 0, cols, dst, r * rowBytes);
                } else {
                    Q4_0Tensor.quantize(row, 0, cols, dst, r * rowBytes);
                }
            }
        });
        return WeightTensor.of(target, dst, rows, cols);
    }
}
