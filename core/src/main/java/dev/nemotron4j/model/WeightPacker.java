package dev.nemotron4j.model;

import dev.nemotron4j.kernels.Parallel;
import dev.nemotron4j.tensor.NativeMemory;
import dev.nemotron4j.tensor.PackedTensor;
import dev.nemotron4j.tensor.Q4_0PackedTensor;
import dev.nemotron4j.tensor.Q4_0Tensor;
import dev.nemotron4j.tensor.Q8_0PackedTensor;
import dev.nemotron4j.tensor.Q8_0Tensor;
import dev.nemotron4j.tensor.WeightTensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * Repacks Q4_0 and Q8_0 matrices into their {@link PackedTensor} layouts while a model loads, rows in parallel. A
 * mapped source is copied into the model's arena and its pages are then dropped from memory (the file stays mapped
 * for the tensors that are not packed); a source already in memory (quantized on load) is packed in place, since
 * packing only moves bytes within a row.
 */
final class WeightPacker {
    private final boolean enabled;
    private final Arena arena;

    WeightPacker(boolean enabled, Arena arena) {
        this.enabled = enabled;
        this.arena = arena;
    }

    WeightTensor apply(WeightTensor m) {
        if (!enabled || !PackedTensor.fits(m.cols()) || !(m instanceof Q4_0Tensor || m instanceof Q8_0Tensor)) {
            return m;
        }
        MemorySegment source = m.data();
        long bytes = m.type().byteSize(m.cols()) * m.rows();
        MemorySegment dst = source.isMapped() || source.isReadOnly() ? NativeMemory.allocate(arena, bytes) : source;
        Parallel.forRange(m.rows(), 64, (from, to) -> {
            if (m instanceof Q4_0Tensor q) {
                Q4_0PackedTensor.pack(q, dst, from, to);
            } else {
                Q8_0PackedTensor.pack((Q8_0Tensor) m, dst, from, to);
            }
        });
        if (dst != source && source.isMapped()) {
            source.asSlice(0, bytes).unload();
        }
        return m instanceof Q4_0Tensor
                ? Q4_0PackedTensor.of(dst, m.rows(), m.cols())
                : Q8_0PackedTensor.of(dst, m.rows(), m.cols());
    }
}
