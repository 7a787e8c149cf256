package dev.nemotron4j.tensor;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import static dev.nemotron4j.tensor.Simd.B;
import static dev.nemotron4j.tensor.Simd.B_PARTS;
import static dev.nemotron4j.tensor.Simd.F;
import static dev.nemotron4j.tensor.Simd.L;

/**
 * ggml Q4_K: super-blocks of 256 values in 144 bytes: f16 d, f16 dmin, 12 bytes of eight packed 6-bit (scale, min)
 * pairs ({@link #scale}/{@link #min}), 128 bytes qs. The 256 values are 4 groups of 64; group g uses qs[32g…32g+31],
 * its first 32 values are the low nibbles (sub-block 2g), the next 32 the high nibbles (sub-block 2g+1).
 * A value of sub-block s is {@code d·scale(s) · q − dmin·min(s)}.
 */
public final class Q4_KTensor extends WeightTensor {
    private static final int QK = 256;
    private static final int BLOCK_BYTES = 144;

    public Q4_KTensor(MemorySegment data, int rows, int cols) {
        super(data, rows, cols);
    }

    @Override
    public GGMLType type() {
        return GGMLType.Q4_K;
    }

    /** ggml's get_scale_min_k4 (scale half): sub-blocks 0-3 use 6 bits of byte s, 4-7 a nibble plus 2 spare bits. */
    static int scale(MemorySegment data, long scales, int s) {
        if (s < 4) {
            return data.get(ValueLayout.JAVA_BYTE, scales + s) & 63;
        }
        return (data.get(ValueLayout.JAVA_BYTE, scales + s + 4) & 0x0f)
                | ((data.get(ValueLayout.JAVA_BYTE, scales + s - 4) & 0xff) >>> 6) << 4;
    }

    /** ggml's get_scale_min_k4 (min half). */
    static int min(MemorySegment data, long scales, int s) {
        if (s < 4) {
            return data.get(ValueLayout.JAVA_BYTE, scales + s + 4) & 63;
        }
        return (data.get(ValueLayout.JAVA_BYTE, scales + s + 4) & 0xff) >>> 4
                | ((data.get(ValueLayout.JAVA_BYTE, scales + s) & 0xff) >>> 6) << 4;
    }

    @Override
    public float dot(int row, float[] x, int xOffset) {
        long base = rowOffset(row);
        int blocks = cols / QK;
        FloatVector acc = FloatVector.zero(F);
        for (int b = 0; b < blocks; b++) {
            long block = base + (long) b * BLOCK_BYTES;
            float d = Simd.f16(data, block);
            float dmin = Simd.f16(data, block + 2);
            long scales = block + 4;
            for (int g = 0; g < 4; g++) {
                int xg = xOffset + b * QK + 64 * g;
                // Σ (d1·q − m1)·x = d1·Σ q·x − m1·Σ x, per 32-value sub-block
                FloatVector qxLo = FloatVector.zero(F);
                FloatVector qxHi = FloatVector.zero(F);
                FloatVector xsLo = FloatVector.zero(F);
                FloatVector xsHi = FloatVector.zero(F);
                for (int j = 0; j < 32; j += B.length()) {
                    ByteVector qs = Simd.bytes(data, block + 16 + 32 * g + j);
                    ByteVector lo = qs.and((byte) 0x0f);
                    ByteVector hi = qs.lanewise(VectorOperators.LSHR, 4);
                    for (int p = 0; p < B_PARTS; p++) {
                        int xj = xg + j + p * L;
                        FloatVector x0 = FloatVector.fromArray(F, x, xj);
                        FloatVector x1 = FloatVector.fromArray(F, x, xj + 32);
                        qxLo = Simd.toFloats(lo, p).fma(x0, qxLo);
                        qxHi = Simd.toFloats(hi, p).fma(x1, qxHi);
                        xsLo = xsLo.add(x0);
                        xsHi = xsHi.add(x1);
                    }
                }
                acc = qxLo.fma(FloatVector.broadcast(F, d * scale(data, scales, 2 * g)), acc);
                acc = qxHi.fma(FloatVector.broadcast(F, d * scale(data, scales, 2 * g + 1)), acc);
                acc = xsLo.fma(FloatVector.broadcast(F, -dmin * min(data, scales, 2 * g)), acc);
                acc = xsHi.fma(FloatVector.broadcast(F, -dmin * min(data, scales, 2 * g + 1)), acc);
            }
        }
        return acc.reduceLanes(VectorOperators.ADD);
    }

    @Override
    public float dotScalar(int row, float[] x, int xOffset) {
        long base = rowOffset(row);
        float sum = 0f;
        for (int b = 0; b < cols / QK; b++) {
            long block = base + (long) b * BLOCK_BYTES;
            float d = Simd.f16(data, block);
            float dmin = Simd.f16(data, block + 2);
            for (int g = 0; g < 4; g++) {
                float d1 = d * scale(data, block + 4, 2 * g);
                float m1 = dmin * min(data, block + 4, 2 * g);
                float d2 = d * scale(data, block + 4, 2 * g + 1);
                float m2 = dmin * min(data, block + 4, 2 * g + 1);
                int xg = xOffset + b * QK + 64 * g;
                for (int l = 0; l < 32; l++) {
                    int q = data.get(ValueLayout.JAVA_BYTE, block + 16 + 32 * g + l) & 0xff;
                    sum += (d1 * (q & 0x0f) - m1) * x[xg + l];
                    sum += (d2 * (q >>> 4) - m2) * x[xg + 32 + l];
                }
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
            float dmin = Simd.f16(data, block + 2);
            for (int g = 0; g < 4; g++) {
                float d1 = d * scale(data, block + 4, 2 * g);
                float m1 = dmin * min(data, block + 4, 2 * g);
                float d2 = d * scale(data, block + 4, 2 * g + 1);
                float m2 = dmin * min(data, block + 4, 2 * g + 1);
                int og = outOffset + b * QK + 64 * g;
                for (int l = 0; l < 32; l++) {
                    int q = data.get(ValueLayout.JAVA_BYTE, block + 16 + 32 * g + l) & 0xff;
                    out[og + l] = d1 * (q & 0x0f) - m1;
                    out[og + 32 + l] = d2 * (q >>> 4) - m2;
                }
            }
        }
    }
}
