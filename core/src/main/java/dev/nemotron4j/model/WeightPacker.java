package dev.nemotron4j.model;

import dev.nemotron4j.kernels.Parallel;
import dev.nemotron4j.tensor.ColumnBlocks;
import dev.nemotron4j.tensor.NativeMemory;
import dev.nemotron4j.tensor.PackedTensor;
import dev.nemotron4j.tensor.WeightTensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Repacks Q4_0, Q4_1, Q8_0, Q4_K, Q5_K and Q6_K matrices into their {@link PackedTensor} layouts while a model loads,
 * rows in parallel (Q4_K 19-byte blocks of 32 values, Q5_K 25-byte ones, Q6_K 28-byte ones). A mapped source is copied
 * into the model's arena and its pages are then dropped from memory (the file stays mapped for the tensors that are not
 * packed); a source already in memory (quantized on load) is packed in place when the packed form has its size, since
 * packing only moves bytes within a row (or within the four rows that Q4_0 lays out together). Matrices wider than a
 * few groups become {@link ColumnBlocks}, which in place pack from a copy of the source.
 */
final class WeightPacker {
    private final boolean enabled;
    private final Arena arena;

    WeightPacker(boolean enabled, Arena arena) {
        this.enabled = enabled;
        this.arena = arena;
    }

    WeightTensor apply(WeightTensor m) {
        if (!enabled || !PackedTensor.fits(m.cols()) || ColumnBlocks.isPacked(m) || !PackedTensor.packs(m.type())) {
            return m;
        }
        MemorySegment source = m.data();
        boolean blocks = ColumnBlocks.splits(m.type(), m.cols());
        long bytes = blocks ? ColumnBlocks.byteSize(m.type(), m.rows(), m.cols())
                : PackedTensor.byteSize(m.type(), m.rows(), m.cols());
        long sourceBytes = m.type().byteSize(m.cols()) * m.rows();
        boolean inPlace = bytes == sourceBytes && !source.isMapped() && !source.isReadOnly();
        MemorySegment dst = inPlace ? source : NativeMemory.allocate(arena, bytes);
        WeightTensor rows = inPlace && blocks ? copy(m, sourceBytes) : m;
        AtomicBoolean usable = new AtomicBoolean(true);
        int together = PackedTensor.packedRows(m.type());
        Parallel.forRange((m.rows() + together - 1) / together, 64, (from, to) -> {
            int first = from * together;
            int last = Math.min(to * together, m.rows());
            if (!(blocks ? ColumnBlocks.pack(rows, dst, first, last) : PackedTensor.pack(m, dst, first, last))) {
                usable.set(false);
            }
        });
        if (!usable.get()) {
            return m; // a Q6_K scale beyond f16 (never in a trained model): decode it unpacked
        }
        if (source.isMapped()) {
            source.asSlice(0, sourceBytes).unload();
        }
        return ColumnBlocks.viewPacked(m.type(), dst, m.rows(), m.cols());
    }

    /** A copy of the matrix, freed once unused: column blocks move values across rows, so they pack from a copy. */
    private static WeightTensor copy(WeightTensor m, long bytes) {
        MemorySegment copy = Arena.ofAuto().allocate(bytes, 64);
        copy.copyFrom(m.data().asSlice(0, bytes));
        return WeightTensor.of(m.type(), copy, m.rows(), m.cols());
    }
}
