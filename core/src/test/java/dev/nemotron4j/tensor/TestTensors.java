package dev.nemotron4j.tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Random;

/** Random but valid tensors of every format, and their packed forms, for the tests of this and other packages. */
public final class TestTensors {
    private TestTensors() {
    }

    /** {@code size} standard normal values, the same for the same seed. */
    public static float[] gaussian(int size, long seed) {
        Random rnd = new Random(seed);
        float[] v = new float[size];
        for (int i = 0; i < size; i++) {
            v[i] = (float) rnd.nextGaussian();
        }
        return v;
    }

    public static WeightTensor random(GGMLType type, int rows, int cols, long seed) {
        return WeightTensor.of(type, WeightTensorKernelsTest.randomTensor(type, rows, cols, seed), rows, cols);
    }

    public static PackedTensor pack(WeightTensor source, MemorySegment dst) {
        PackedTensor.pack(source, dst, 0, source.rows());
        return PackedTensor.view(source.type(), dst, source.rows(), source.cols());
    }

    public static PackedTensor pack(WeightTensor source) {
        return pack(source, Arena.ofAuto().allocate(PackedTensor.byteSize(source.type(), source.rows(),
                source.cols())));
    }
}
