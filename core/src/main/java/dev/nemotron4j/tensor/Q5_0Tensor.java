package dev.nemotron4j.tensor;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShuffle;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import static dev.nemotron4j.tensor.Simd.B;
import static dev.nemotron4j.tensor.Simd.B_PARTS;
import static dev.nemotron4j.tensor.Simd.F;
import static dev.nemotron4j.tensor.Simd.I;
import static dev.nemotron4j.tensor.Simd.L;
import static dev.nemotron4j.tensor.Simd.LANE;
import static dev.nemotron4j.tensor.Simd.LE_INT;

/**
 * ggml Q5_0: blocks of 32 values in 22 bytes: f16 scale d, u32 qh (little-endian), 16 bytes qs. Value j (j &lt; 16) is
 * the low nibble of qs[j] plus bit j of qh as bit 4; value j+16 is the high nibble of qs[j] plus bit j+16 of qh.
 * A value is {@code d · (q − 16)}.
 */
public final class Q5_0Tensor extends WeightTensor {
    private static final int QK = 32;
    private static final int BLOCK_BYTES = 22;

    public Q5_0Tensor(MemorySegment data, int rows, int cols) {
        super(data, rows, cols);
    }

    @Override
    public GGMLType type() {
        return GGMLType.Q5_0;
    }

    @Override
    public float dot(int row, float[] x, int xOffset) {
        long base = rowOffset(row);
        int blocks = cols / QK;
        FloatVector acc = FloatVector.zero(F);
        for (int b = 0; b < blocks; b++) {
            long block = base + (long) b * BLOCK_BYTES;
            int xb = xOffset + b * QK;
            IntVector qh = IntVector.broadcast(I, data.get(LE_INT, block + 2));
            FloatVector sum = FloatVector.zero(F);
            for (int j = 0; j < QK / 2; j += B.length()) {
                ByteVector qs = Simd.bytes(data, block + 6 + j);
                ByteVector lo = qs.and((byte) 0x0f);
                ByteVector hi = qs.lanewise(VectorOperators.LSHR, 4);
                for (int p = 0; p < B_PARTS; p++) {
                    int e = j + p * L;
                    IntVector bit = LANE.add(e);
                    IntVector q0 = Simd.toInts(lo, p).or(Simd.highBit(qh, bit)).sub(16);
                    IntVector q1 = Simd.toInts(hi, p).or(Simd.highBit(qh, bit.add(QK / 2))).sub(16);
                    sum = Simd.toFloats(q0).fma(FloatVector.fromArray(F, x, xb + e), sum);
                    sum = Simd.toFloats(q1).fma(FloatVector.fromArray(F, x, xb + e + QK / 2), sum);
                }
            }
            acc = sum.fma(FloatVector.broadcast(F, Simd.f16(data, block)), acc);
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
            int qh = data.get(LE_INT, block + 2);
            int xb = xOffset + b * QK;
            for (int j = 0; j < QK / 2; j++) {
                int q = data.get(ValueLayout.JAVA_BYTE, block + 6 + j) & 0xff;
                sum += d * (((q & 0x0f) | ((qh >>> j) & 1) << 4) - 16) * x[xb + j];
                sum += d * (((q >>> 4) | ((qh >>> (j + 16)) & 1) << 4) - 16) * x[xb + j + QK / 2];
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
            int qh = data.get(LE_INT, block + 2);
            int ob = outOffset + b * QK;
            for (int j = 0; j < QK / 2; j++) {
                int q = data.get(ValueLayout.JAVA_BYTE, block + 6 + j) & 0xff;
                out[ob + j] = d * (((q & 0x0f) | ((qh >>> j) & 1) << 4) - 16);
                out[ob + j + QK / 2] = d * (((q >>> 4) | ((qh >>> (j + 16)) & 1) << 4) - 16);
            }
        }
    }
}
