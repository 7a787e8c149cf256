package dev.nemotron4j.tensor;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

import java.util.stream.IntStream;

/**
 * A float vector's lane sum and exp, built from lane-wise operations and shuffles only, so that they give the same
 * bits whether the JIT has compiled the caller or not. {@code reduceLanes(ADD)} and {@code lanewise(EXP)} leave their
 * rounding to the implementation: the interpreter and C1 add the lanes one after another and call {@code Math.exp},
 * while C2 adds them as a tree and calls its own exp. With those, a model gave logits up to 0.04 apart for the same
 * prompt, depending on which kernels had been compiled yet.
 */
public final class VectorMath {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final int L = F.length();
    /**
     * Lane i with lane i xor L/2, then with i xor L/4, …, i xor 1. Kernels sum a vector's lanes with
     * <pre>{@code for (VectorShuffle<Float> halving : VectorMath.HALVINGS) { v = v.add(v.rearrange(halving)); }}</pre>
     * and take lane 0: the pairwise order of {@link #sumScalar}. They write that loop out rather than call a method:
     * past a kernel's node budget C2 stops inlining calls, and a vector passed to a call that is not inlined is boxed
     * (packed Q4_0 ran 1.6× slower, with 96 bytes of garbage per row).
     */
    @SuppressWarnings("unchecked")
    public static final VectorShuffle<Float>[] HALVINGS = IntStream.iterate(L / 2, half -> half >= 1, half -> half / 2)
            .mapToObj(half -> VectorShuffle.fromOp(F, i -> i ^ half)).toArray(VectorShuffle[]::new);

    /**
     * Lanes from L/2 on, and lanes whose index has bit L/4 set. With these, four vectors' first two halvings take
     * half the operations: a blend pairs the lanes of two vectors that the same shuffle adds, and the four sums come
     * out in lanes 0, L/2, L/4 and 3L/4 of one vector, bit for bit those of {@link #HALVINGS} (addition commutes).
     * The four-row kernels of packed Q4_0 and Q4_K end so, for each vector they take.
     */
    public static final VectorMask<Float> UPPER_HALF = VectorMask.fromLong(F, ((1L << L) - 1) & -(1L << (L / 2)));
    public static final VectorMask<Float> ODD_QUARTERS = VectorMask.fromLong(F,
            IntStream.range(0, L).filter(i -> (i & (L / 4)) != 0).mapToLong(i -> 1L << i).sum());

    private static final float LOG2_E = 1.44269504f;
    /** ln 2 in two parts, the first with so few bits that n·LN2_HIGH is exact for any exponent n in range. */
    private static final float LN2_HIGH = 0.693359375f;
    private static final float LN2_LOW = -2.12194440e-4f;
    /** 1.5·2²³: adding it rounds a float of magnitude below 2²² to an integer, held in the low mantissa bits. */
    private static final float ROUNDER = 0x1.8p23f;
    private static final int ROUNDER_BITS = Float.floatToRawIntBits(ROUNDER);
    /** Beyond these, exp is +∞ and 0 as floats; clamping keeps the exponent arithmetic in range. */
    private static final float EXP_MAX = 88.8f;
    private static final float EXP_MIN = -104f;

    private VectorMath() {
    }

    /** The sum of the lanes in the order of {@link #HALVINGS}: their scalar reference. */
    static float sumScalar(float[] lanes) {
        float[] x = lanes.clone();
        for (int half = x.length / 2; half >= 1; half /= 2) {
            for (int i = 0; i < half; i++) {
                x[i] += x[i + half];
            }
        }
        return x[0];
    }

    /**
     * a[i] = e^(a[i] − shift) for i in [from, to), a whole number of vectors, within 2 ulp of {@code Math.exp}
     * (Cephes' expf): x = n·ln 2 + r with |r| ≤ ln 2 / 2, a degree-7 polynomial for e^r, then 2^n applied in two
     * halves so that results near the float range's ends stay right. +∞ and values above 88.8 give +∞, values below
     * −104 give 0, NaN gives NaN. It takes arrays, not vectors: a helper taking a vector is not always inlined (the
     * attention softmax, deep in its caller, was not), and then every vector passed is boxed.
     */
    public static void expInPlace(float[] a, int from, int to, float shift) {
        if ((to - from) % L != 0) {
            throw new IllegalArgumentException("exp over " + (to - from) + " values, not whole vectors of "
                    + L);
        }
        for (int i = from; i < to; i += L) {
            FloatVector clamped = FloatVector.fromArray(F, a, i).sub(shift).max(EXP_MIN).min(EXP_MAX);
            FloatVector shifted = clamped.fma(LOG2_E, ROUNDER);
            FloatVector n = shifted.sub(ROUNDER);
            IntVector exponent = shifted.reinterpretAsInts().sub(ROUNDER_BITS);
            FloatVector r = clamped.sub(n.mul(LN2_HIGH));
            r = n.fma(FloatVector.broadcast(F, -LN2_LOW), r);
            FloatVector p = r.fma(1.9875691500e-4f, 1.3981999507e-3f);
            p = p.fma(r, FloatVector.broadcast(F, 8.3334519073e-3f));
            p = p.fma(r, FloatVector.broadcast(F, 4.1665795894e-2f));
            p = p.fma(r, FloatVector.broadcast(F, 1.6666665459e-1f));
            p = p.fma(r, FloatVector.broadcast(F, 5.0000001201e-1f));
            p = p.mul(r).fma(r, r).add(1f);
            IntVector firstHalf = exponent.lanewise(VectorOperators.ASHR, 1);
            IntVector secondHalf = exponent.sub(firstHalf);
            p.mul(firstHalf.add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats())
                    .mul(secondHalf.add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats())
                    .intoArray(a, i);
        }
    }
}
