package dev.nemotron4j.model;

import dev.nemotron4j.kernels.Parallel;
import dev.nemotron4j.tensor.GGMLType;
import dev.nemotron4j.tensor.NativeMemory;
import dev.nemotron4j.tensor.PackedTensor;
import dev.nemotron4j.tensor.Q4_0PackedTensor;
import dev.nemotron4j.tensor.Q4_0Tensor;
import dev.nemotron4j.tensor.Q4_1PackedTensor;
import dev.nemotron4j.tensor.Q4_1Tensor;
import dev.nemotron4j.tensor.Q4_KPackedTensor;
import dev.nemotron4j.tensor.Q4_KTensor;
import dev.nemotron4j.tensor.Q5_KPackedTensor;
import dev.nemotron4j.tensor.Q5_KTensor;
import dev.nemotron4j.tensor.Q6_KPackedTensor;
import dev.nemotron4j.tensor.Q6_KTensor;
import dev.nemotron4j.tensor.Q8_0PackedTensor;
import dev.nemotron4j.tensor.Q8_0Tensor;
import dev.nemotron4j.tensor.WeightTensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Repacks Q4_0, Q4_1, Q8_0, Q4_K, Q5_K and Q6_K matrices into their {@link PackedTensor} layouts while a model loads,
 * rows in parallel (Q4_K 19-byte blocks of 32 values, Q5_K 25-byte ones, Q6_K 28-byte ones). A mapped source is copied
 * into the model's arena and its pages are then dropped from memory (the file stays mapped for the tensors that are not
 * packed); a source already in memory (quantized on load) is packed in place when the packed form has its size, since
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
        if (!enabled || !PackedTensor.fits(m.cols()) || m instanceof PackedTensor || !packs(m.type())) {
            return m;
        }
        MemorySegment source = m.data();
        long bytes = switch (m.type()) {
            case Q4_K -> Q4_KPackedTensor.byteSize(m.rows(), m.cols());
            case Q5_K -> Q5_KPackedTensor.byteSize(m.rows(), m.cols());
            case Q6_K -> Q6_KPackedTensor.byteSize(m.rows(), m.cols());
            default -> m.type().byteSize(m.cols()) * m.rows();
        };
        long sourceBytes = m.type().byteSize(m.cols()) * m.rows();
        boolean inPlace = bytes == sourceBytes && !source.isMapped() && !source.isReadOnly();
        MemorySegment dst = inPlace ? source : NativeMemory.allocate(arena, bytes);
        AtomicBoolean usable = new AtomicBoolean(true);
        Parallel.forRange(m.rows(), 64, (from, to) -> {
            switch (m) {
                case Q4_0Tensor q -> Q4_0PackedTensor.pack(q, dst, from, to);
                case Q4_1Tensor q -> Q4_1PackedTensor.pack(q, dst, from, to);
                case Q4_KTensor q -> Q4_KPackedTensor.pack(q, dst, from, to);
                case Q5_KTensor q -> Q5_KPackedTensor.pack(q, dst, from, to);
                case Q6_KTensor q -> {
                    if (!Q6_KPackedTensor.pack(q, dst, from, to)) {
                        usable.set(false);
                    }
                }
                default -> Q8_0PackedTensor.pack((Q8_0Tensor) m, dst, from, to);
            }
        });
        if (!usable.get()) {
            return m; // a Q6_K scale beyond f16 (never in a trained model): decode it unpacked
        }
        if (source.isMapped()) {
            source.asSlice(0, sourceBytes).unload();
        }
        return packedView(m.type(), dst, m.rows(), m.cols());
    }

    /** A view of bytes packed from a matrix of {@code type}. */
    static WeightTensor packedView(GGMLType type, MemorySegment data, int rows, int cols) {
        return switch (type) {
            case Q4_0 -> Q4_0PackedTensor.of(data, rows, cols);
            case Q4_1 -> Q4_1PackedTensor.of(data, rows, cols);
            case Q4_K -> Q4_KPackedTensor.of(data, rows, cols);
            case Q5_K -> Q5_KPackedTensor.of(data, rows, cols);
            case Q6_K -> Q6_KPackedTensor.of(data, rows, cols);
            case Q8_0 -> Q8_0PackedTensor.of(data, rows, cols);
            default -> throw new IllegalArgumentException(type + " has no packed form");
        };
    }

    /** Whether matrices of {@code type} have a packed form. */
    static boolean packs(GGMLType type) {
        return switch (type) {
            case Q4_0, Q4_1, Q8_0, Q4_K, Q5_K, Q6_K -> true;
            default -> false;
        };
    }
}
