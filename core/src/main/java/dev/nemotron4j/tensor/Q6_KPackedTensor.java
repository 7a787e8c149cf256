package dev.nemotron4j.tensor;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;

import static dev.nemotron4j.tensor.Simd.B_HALF;
import static dev.nemotron4j.tensor.Simd.F;
import static dev.nemotron4j.tensor.Simd.I;
import static dev.nemotron4j.tensor.Simd.L;
import static dev.nemotron4j.tensor.Simd.S_FULL;

/**
 * {@link Q6_KTensor Q6_K} {@link PackedTensor packed} for decode. At load each 32 values of a super-block become a
 * block of 32 bytes: f32 scales A = d·scales[2i] (values 0–15) and B = d·scales[2i+1] (values 16–31), exact; 16 nibble
 * bytes, byte j holding the low 4 bits of value j and of value j + 16; 8 high bytes, byte i holding the top 2 bits of
 * values i, i+8, i+16, i+24 at bits 0, 2, 4, 6. A value is scale · (q − 32) with q the 6-bit number. A group of LANES
 * blocks keeps the LANES A scales, the LANES B scales (lane order, one float vector load each), the 16 nibble steps,
 * then the 8 high steps. Floats rather than f16 pairs cost a bit per weight but save the conversions, which in these
 * kernels pushed C2 past its inlining budget.
 *
 * <p>Decode forms q = low + 16·high in 16-bit lanes and adds q·x four products at a time (each at most 63·127, so
 * the sum is exact), then widens to 32 bits; the −32 comes back per block as −32·Σx of each half.
 */
public final class Q6_KPackedTensor extends PackedTensor {
    private static final int BLOCK_BYTES = 32;
    private static final int STEPS = 24;
    private static final int SOURCE_BYTES = 210;
    private static final VectorSpecies<Short> S8 = ShortVector.SPECIES_128;
    private static final VectorSpecies<Byte> B8 = ByteVector.SPECIES_64;
    private static final VarHandle LE_SHORT = MethodHandles.byteArrayViewVarHandle(short[].class,
            ByteOrder.LITTLE_ENDIAN);
    private static final VarHandle LE_FLOAT = MethodHandles.byteArrayViewVarHandle(float[].class,
            ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfFloat LE_FLOAT_LAYOUT = ValueLayout.JAVA_FLOAT_UNALIGNED
            .withOrder(ByteOrder.LITTLE_ENDIAN);

    private Q6_KPackedTensor(MemorySegment data, int rows, int cols) {
        super(data, rows, cols, BLOCK_BYTES, 8, 0);
    }

    @Override
    public GGMLType type() {
        return GGMLType.Q6_K;
    }

    /** A view of bytes {@link #pack} wrote. */
    public static Q6_KPackedTensor of(MemorySegment data, int rows, int cols) {
        return new Q6_KPackedTensor(data, rows, cols);
    }

    /** Bytes the packed form of a rows × cols matrix takes. */
    public static long byteSize(int rows, int cols) {
        return (long) rows * (cols / QK) * BLOCK_BYTES;
    }

    /** Converts rows [from, to) of {@code source} to 32-byte blocks and packs them into {@code dst}. */
    public static void pack(Q6_KTensor source, MemorySegment dst, int from, int to) {
        int superBlocks = source.cols() / 256;
        byte[] q6k = new byte[superBlocks * SOURCE_BYTES];
        int[] q = new int[QK];
        pack((row, into) -> {
            MemorySegment.copy(source.data(), ValueLayout.JAVA_BYTE, (long) row * q6k.length, q6k, 0, q6k.length);
            for (int b = 0; b < superBlocks; b++) {
                toBlocks(q6k, b * SOURCE_BYTES, into, b * 8 * BLOCK_BYTES, q);
            }
        }, source.cols(), dst, from, to, BLOCK_BYTES, STEPS, 0, 4);
    }

    /**
     * The eight 32-byte blocks of a Q6_K super-block (see {@link Q6_KTensor} for its layout); {@code q} holds one
     * block's 6-bit numbers on the way.
     */
    private static void toBlocks(byte[] q6k, int block, byte[] out, int outOffset, int[] q) {
        float d = Float.float16ToFloat((short) LE_SHORT.get(q6k, block + 208));
        for (int k = 0; k < 8; k++) {
            int half = k / 4;
            int run = k % 4;
            int ql = block + 64 * half + (run % 2) * 32;
            int qh = block + 128 + 32 * half;
            for (int l = 0; l < 32; l++) {
                int low = (q6k[ql + l] & 0xff) >>> (4 * (run / 2)) & 0x0f;
                q[l] = low | ((q6k[qh + l] & 0xff) >>> (2 * run) & 3) << 4;
            }
            int o = outOffset + k * BLOCK_BYTES;
            int scales = block + 192 + 8 * half + 2 * run;
            LE_FLOAT.set(out, o, d * q6k[scales]);
            LE_FLOAT.set(out, o + 4, d * q6k[scales + 1]);
            for (int j = 0; j < 16; j++) {
                out[o + 8 + j] = (byte) ((q[j] & 0x0f) | (q[j + 16] & 0x0f) << 4);
            }
            for (int i = 0; i < 8; i++) {
                out[o + 24 + i] = (byte) (q[i] >>> 4 | (q[i + 8] >>> 4) << 2 | (q[i + 16] >>> 4) << 4
                        | (q[i + 24] >>> 4) << 6);
            }
        }
    }

    /**
     * The two halves of each block are two methods: as one, the method grows past what C2 inlines, and the Vector API
     * then runs as plain Java. Each loads the group's steps for itself; the second loads come from L1.
     */
    @Override
    float groupsDot(int row, Q8Activations x, int t) {
        int blocks = cols / QK;
        float sum = 0f;
        for (int g = 0; g < groups(cols); g++) {
            long group = group(row, g);
            int xg = t * cols + g * QK * LANES;
            int xs = t * blocks + g * LANES;
            sum += lowHalvesDot(group, x, xg, xs) + highHalvesDot(group, x, xg, xs);
        }
        return sum;
    }

    /** Σ over the group's blocks of A·e·Σ_{j<16} (q_j − 32)·x_j, e being the activations' block scale. */
    private float lowHalvesDot(long group, Q8Activations x, int xg, int xs) {
        long steps = group + 8L * LANES;
        IntVector sum0 = IntVector.zero(I);
        IntVector sum1 = sum0;
        for (int i = 0; i < 8; i += 2) {
            ShortVector pairs = ShortVector.zero(S_FULL);
            for (int k = i; k < i + 2; k++) {
                ShortVector high = unsigned(steps + (16L + k) * LANES);
                pairs = pairs.add(unsigned(steps + (long) k * LANES).and((short) 0x0f)
                                .add(high.lanewise(VectorOperators.LSHL, 4).and((short) 0x30))
                                .mul(activations(x.values, xg + k * LANES)))
                        .add(unsigned(steps + (k + 8L) * LANES).and((short) 0x0f)
                                .add(high.lanewise(VectorOperators.LSHL, 2).and((short) 0x30))
                                .mul(activations(x.values, xg + (k + 8) * LANES)));
            }
            sum0 = sum0.add((IntVector) pairs.convertShape(VectorOperators.S2I, I, 0));
            sum1 = sum1.add((IntVector) pairs.convertShape(VectorOperators.S2I, I, 1));
        }
        FloatVector low0 = FloatVector.fromArray(F, x.lowSums, xs).mul(32f);
        FloatVector low1 = FloatVector.fromArray(F, x.lowSums, xs + L).mul(32f);
        return ((FloatVector) sum0.convert(VectorOperators.I2F, 0)).mul(FloatVector.fromArray(F, x.scales, xs))
                .sub(low0).mul(scales(group, 0))
                .add(((FloatVector) sum1.convert(VectorOperators.I2F, 0))
                        .mul(FloatVector.fromArray(F, x.scales, xs + L)).sub(low1).mul(scales(group, L)))
                .reduceLanes(VectorOperators.ADD);
    }

    /** Σ over the group's blocks of B·e·Σ_{j≥16} (q_j − 32)·x_j. */
    private float highHalvesDot(long group, Q8Activations x, int xg, int xs) {
        long steps = group + 8L * LANES;
        IntVector sum0 = IntVector.zero(I);
        IntVector sum1 = sum0;
        for (int i = 0; i < 8; i += 2) {
            ShortVector pairs = ShortVector.zero(S_FULL);
            for (int k = i; k < i + 2; k++) {
                ShortVector high = unsigned(steps + (16L + k) * LANES);
                pairs = pairs.add(unsigned(steps + (long) k * LANES).lanewise(VectorOperators.ASHR, 4)
                                .add(high.and((short) 0x30))
                                .mul(activations(x.values, xg + (k + 16) * LANES)))
                        .add(unsigned(steps + (k + 8L) * LANES).lanewise(VectorOperators.ASHR, 4)
                                .add(high.lanewise(VectorOperators.ASHR, 2).and((short) 0x30))
                                .mul(activations(x.values, xg + (k + 24) * LANES)));
            }
            sum0 = sum0.add((IntVector) pairs.convertShape(VectorOperators.S2I, I, 0));
            sum1 = sum1.add((IntVector) pairs.convertShape(VectorOperators.S2I, I, 1));
        }
        FloatVector high0 = FloatVector.fromArray(F, x.sums, xs).sub(FloatVector.fromArray(F, x.lowSums, xs))
                .mul(32f);
        FloatVector high1 = FloatVector.fromArray(F, x.sums, xs + L)
                .sub(FloatVector.fromArray(F, x.lowSums, xs + L)).mul(32f);
        return ((FloatVector) sum0.convert(VectorOperators.I2F, 0)).mul(FloatVector.fromArray(F, x.scales, xs))
                .sub(high0).mul(scales(group, LANES))
                .add(((FloatVector) sum1.convert(VectorOperators.I2F, 0))
                        .mul(FloatVector.fromArray(F, x.scales, xs + L)).sub(high1)
                        .mul(scales(group, LANES + L)))
                .reduceLanes(VectorOperators.ADD);
    }

    /** L of a group's scales from number {@code first} (A scales first, then B). */
    private FloatVector scales(long group, int first) {
        return FloatVector.fromMemorySegment(F, data, group + 4L * first, ByteOrder.LITTLE_ENDIAN);
    }

    /** Scale of half h (0: A, 1: B) of block b of a row, for the scalar paths. */
    private float scale(int row, int b, int h) {
        if (inTail(b)) {
            return data.get(LE_FLOAT_LAYOUT, tailBlock(row, b) + 4L * h);
        }
        return data.get(LE_FLOAT_LAYOUT, group(row, b / LANES) + 4L * (h * LANES + b % LANES));
    }

    /** LANES bytes at {@code offset} as unsigned shorts. */
    private ShortVector unsigned(long offset) {
        return (ShortVector) ByteVector.fromMemorySegment(B_HALF, data, offset, ByteOrder.LITTLE_ENDIAN)
                .convertShape(VectorOperators.ZERO_EXTEND_B2S, S_FULL, 0);
    }

    @Override
    float tailDot(int row, Q8Activations x, int t) {
        int blocks = cols / QK;
        float tail = 0f;
        for (int b = groups(cols) * LANES; b < blocks; b++) {
            long block = tailBlock(row, b);
            ShortVector first = eight(block + 8);
            ShortVector second = eight(block + 16);
            ShortVector high = eight(block + 24);
            int xb = x.index(t, b * QK);
            ShortVector pairsA = first.and((short) 0x0f).add(high.lanewise(VectorOperators.LSHL, 4).and((short) 0x30))
                    .sub((short) 32).mul(activations8(x.values, xb))
                    .add(second.and((short) 0x0f).add(high.lanewise(VectorOperators.LSHL, 2).and((short) 0x30))
                            .sub((short) 32).mul(activations8(x.values, xb + 8)));
            ShortVector pairsB = first.lanewise(VectorOperators.LSHR, 4).and((short) 0x0f).add(high.and((short) 0x30))
                    .sub((short) 32).mul(activations8(x.values, xb + 16))
                    .add(second.lanewise(VectorOperators.LSHR, 4).and((short) 0x0f)
                            .add(high.lanewise(VectorOperators.LSHR, 2).and((short) 0x30))
                            .sub((short) 32).mul(activations8(x.values, xb + 24)));
            int sumA = ((IntVector) pairsA.convertShape(VectorOperators.S2I, IntVector.SPECIES_256, 0))
                    .reduceLanes(VectorOperators.ADD);
            int sumB = ((IntVector) pairsB.convertShape(VectorOperators.S2I, IntVector.SPECIES_256, 0))
                    .reduceLanes(VectorOperators.ADD);
            tail += x.scale(t, b) * (scale(row, b, 0) * sumA + scale(row, b, 1) * sumB);
        }
        return tail;
    }

    /** Eight bytes at {@code offset} as shorts (sign-extended: callers mask). */
    private ShortVector eight(long offset) {
        return (ShortVector) ByteVector.fromMemorySegment(B8, data, offset, ByteOrder.LITTLE_ENDIAN)
                .convertShape(VectorOperators.B2S, S8, 0);
    }

    private static ShortVector activations8(byte[] values, int offset) {
        return (ShortVector) ByteVector.fromArray(B8, values, offset).convertShape(VectorOperators.B2S, S8, 0);
    }

    @Override
    float dotScalar(int row, Q8Activations x, int t) {
        float sum = 0f;
        for (int b = 0; b < cols / QK; b++) {
            int sumA = 0;
            int sumB = 0;
            for (int j = 0; j < 16; j++) {
                sumA += (quant(row, b, j) - 32) * x.value(t, b * QK + j);
                sumB += (quant(row, b, j + 16) - 32) * x.value(t, b * QK + j + 16);
            }
            sum += x.scale(t, b) * (scale(row, b, 0) * sumA + scale(row, b, 1) * sumB);
        }
        return sum;
    }

    /** The 6-bit number q (0–63) of value j of block b, for the scalar paths. */
    private int quant(int row, int b, int j) {
        int low = sourceByte(row, b, j % 16) >>> (j < 16 ? 0 : 4) & 0x0f;
        return low | (sourceByte(row, b, 16 + j % 8) >>> (2 * (j / 8)) & 3) << 4;
    }

    @Override
    public void dequantizeRowStored(int row, float[] out, int outOffset) {
        int groups = groups(cols);
        for (int g = 0; g < groups; g++) {
            long group = group(row, g);
            long steps = group + 8L * LANES;
            for (int j = 0; j < QK; j++) {
                ShortVector nibbles = unsigned(steps + (long) (j % 16) * LANES);
                ShortVector high = unsigned(steps + (16L + j % 8) * LANES);
                ShortVector q = nibbles.lanewise(VectorOperators.LSHR, j < 16 ? 0 : 4).and((short) 0x0f)
                        .add(high.lanewise(VectorOperators.LSHR, 2 * (j / 8)).and((short) 3)
                                .lanewise(VectorOperators.LSHL, 4))
                        .sub((short) 32);
                for (int p = 0; p < 2; p++) {
                    Simd.toFloats((IntVector) q.convertShape(VectorOperators.S2I, I, p))
                            .mul(scales(group, j / 16 * LANES + p * L))
                            .intoArray(out, outOffset + g * QK * LANES + j * LANES + p * L);
                }
            }
        }
        for (int b = groups * LANES; b < cols / QK; b++) {
            dequantizeBlock(row, b, out, outOffset + b * QK);
        }
    }

    /** The same order as {@link Q8_0PackedTensor}'s: value j of every block of a group, then value j + 1. */
    @Override
    int[] storedOrder(int cols) {
        return Q8_0PackedTensor.valueOrder(cols);
    }

    @Override
    void dequantizeBlock(int row, int b, float[] out, int outOffset) {
        for (int j = 0; j < QK; j++) {
            out[outOffset + j] = scale(row, b, j / 16) * (quant(row, b, j) - 32);
        }
    }
}
