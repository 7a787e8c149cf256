package dev.nemotron4j.tensor;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShuffle;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import static dev.nemotron4j.tensor.Simd.B;
import static dev.nemotron4j.tensor.Simd.B_PARTS;
import static dev.nemotron4j.tensor.Simd.F;
import static dev.nemotron4j.tensor.Simd.L;

/**
 * ggml Q4_1: blocks of 32 values in 20 bytes: f16 scale d, f16 minimum m, then 16 bytes qs. Byte j holds value j in
 * its low nibble and value j+16 in its high nibble; a value is {@code d · nibble + m}.
 */
public final class Q4_1Tensor extends WeightTensor {
    private static final int QK = 32;
    private static final int BLOCK_BYTES = 20;

    public Q4_1Tensor(MemorySegment data, int rows, int cols) {
        super(data, rows, cols);
    }

    @Override
    public GGMLType type() {
        return GGMLType.Q4_1;
    }

    @Override
    public float dot(int row, float[] x, int xOffset) {
        long base = rowOffset(row);
        int blocks = cols / QK;
        FloatVector acc = FloatVector.zero(F);
        for (int b = 0; b < blocks; b++) {
            long block = base + (long) b * BLOCK_BYTES;
            int xb = xOffset + b * QK;
            // Σ (d·q + m)·x = d·Σ q·x + m·Σ x
            FloatVector qx = FloatVector.zero(F);
            FloatVector xs = FloatVector.zero(F);
            for (int j = 0; j < QK / 2; j += B.length()) {
                ByteVector qs = Simd.bytes(data, block + 4 + j);
                ByteVector lo = qs.and((byte) 0x0f);
                ByteVector hi = qs.lanewise(VectorOperators.LSHR, 4);
                for (int p = 0; p < B_PARTS; p++) {
                    int xj = xb + j + p * L;
                    FloatVector x0 = FloatVector.fromArray(F, x, xj);
                    FloatVector x1 = FloatVector.fromArray(F, x, xj + QK / 2);
                    qx = Simd.toFloats(lo, p).fma(x0, qx);
                    qx = Simd.toFloats(hi, p).fma(x1, qx);
                    xs = xs.add(x0).add(x1);
                }
            }
            acc = qx.fma(FloatVector.broadcast(F, Simd.f16(data, block)), acc);
            acc = xs.fma(FloatVector.broadcast(F, Simd.f16(data, block + 2)), acc);
        }
        for (VectorShuffle<Float> halving : VectorMath.HALVINGS) {
            acc = acc.add(acc.rearrange(halving));
        }
        return acc.lane(0);
    }

    @Override
    public float dotScalar(int row, float[] x, int xOffset) {
        long base = rowOffset(row);
        float sum = 0f;
        for (int b = 0; b < cols / QK; b++) {
            long block = base + (long) b * BLOCK_BYTES;
            float d = Simd.f16(data, block);
            float m = Simd.f16(data, block + 2);
            int xb = xOffset + b * QK;
            for (int j = 0; j < QK / 2; j++) {
                int q = data.get(ValueLayout.JAVA_BYTE, block + 4 + j) & 0xff;
                sum += (d * (q & 0x0f) + m) * x[xb + j];
                sum += (d * (q >>> 4) + m) * x[xb + j + QK / 2];
            }
        }
        return sum;
    }

    @Override
    public void dequantizeRow(int row, float[] out, int outOffset) {
        long base = rowOffset(row);
        for (int b = 0; b < cols / QK; b++) {
            long block = base + (long) b * BLOCK_BYTES;
            float d = Simd.f16(data, block);
            float m = Simd.f16(data, block + 2);
            int ob = outOffset + b * QK;
            for (int j = 0; j < QK / 2; j++) {
                int q = data.get(ValueLayout.JAVA_BYTE, block + 4 + j) & 0xff;
                out[ob + j] = d * (q & 0x0f) + m;
                out[ob + j + QK / 2] = d * (q >>> 4) + m;
            }
        }
    }
}
