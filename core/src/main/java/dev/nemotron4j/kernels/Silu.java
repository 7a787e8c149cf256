package dev.nemotron4j.kernels;

import dev.nemotron4j.tensor.VectorMath;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The gated SiLU of a Mistral-shape MLP, h = silu(g) · u = g / (1 + e^−g) · u, with vector exponentials: one scalar
 * {@code Math.exp} per hidden value took 92 µs per 16384-wide row against 12, on the thread that waits between
 * matmuls (2 % of a Minitron-8B decode step, 4 % of a prompt).
 */
public final class Silu {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    /** Values per pass: e^−g of a chunk is computed into a small per-thread buffer that stays in L1. */
    private static final int CHUNK = 1024;
    private static final ThreadLocal<float[]> EXPS = ThreadLocal.withInitial(() -> new float[CHUNK]);

    private Silu() {
    }

    /** gate[i] = silu(gate[i]) · up[i] for i in [0, n). */
    public static void gate(float[] gate, float[] up, int n) {
        float[] e = EXPS.get();
        int whole = n - n % F.length();
        for (int from = 0; from < whole; from += CHUNK) {
            int length = Math.min(CHUNK, whole - from);
            for (int i = 0; i < length; i += F.length()) {
                FloatVector.fromArray(F, gate, from + i).neg().intoArray(e, i);
            }
            VectorMath.expInPlace(e, 0, length, 0f);
            for (int i = 0; i < length; i += F.length()) {
                FloatVector g = FloatVector.fromArray(F, gate, from + i);
                g.div(FloatVector.fromArray(F, e, i).add(1f)).mul(FloatVector.fromArray(F, up, from + i))
                        .intoArray(gate, from + i);
            }
        }
        gateScalar(gate, up, whole, n);
    }

    /** The scalar reference of {@link #gate}, over [from, n). */
    public static void gateScalar(float[] gate, float[] up, int from, int n) {
        for (int i = from; i < n; i++) {
            float g = gate[i];
            gate[i] = g / (1f + (float) Math.exp(-g)) * up[i];
        }
    }
}
