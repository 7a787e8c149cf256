package dev.nemotron4j.tensor;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/** 32-bit IEEE floats, little-endian, 4 bytes per element. */
public final class F32Tensor extends WeightTensor {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final ValueLayout.OfFloat LE_FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    public F32Tensor(MemorySegment data, int rows, int cols) {
        super(data, rows, cols);
    }

    @Override
    public GGMLType type() {
        return GGMLType.F32;
    }

    @Override
    public float dot(int row, float[] x, int xOffset) {
        long base = rowOffset(row);
        int upper = F.loopBound(cols);
        FloatVector acc = FloatVector.zero(F);
        int j = 0;
        for (; j < upper; j += F.length()) {
            FloatVector w = FloatVector.fromMemorySegment(F, data, base + (long) j * 4, ByteOrder.LITTLE_ENDIAN);
            acc = w.fma(FloatVector.fromArray(F, x, xOffset + j), acc);
        }
        for (VectorShuffle<Float> halving : VectorMath.HALVINGS) {
            acc = acc.add(acc.rearrange(halving));
        }
        float sum = acc.lane(0);
        for (; j < cols; j++) {
            sum += data.get(LE_FLOAT, base + (long) j * 4) * x[xOffset + j];
        }
        return sum;
    }

    @Override
    public float dotScalar(int row, float[] x, int xOffset) {
        long base = rowOffset(row);
        float sum = 0f;
        for (int j = 0; j < cols; j++) {
            sum += data.get(LE_FLOAT, base + (long) j * 4) * x[xOffset + j];
        }
        return sum;
    }

    @Override
    public void dequantizeRow(int row, float[] out, int outOffset) {
        MemorySegment.copy(data, LE_FLOAT, rowOffset(row), out, outOffset, cols);
    }
}
