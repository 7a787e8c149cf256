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

    private Silu() {
    }

    /** gate[i] = silu(gate[i]) · up[i] for i in [0, n). */
    public static void gate(float[] gate, float[] up, int n) {
        int i = 0;
        for (; i <= n - F.length(); i += F.length()) {
            FloatVector g = FloatVector.fromArray(F, gate, i);
            g.div(VectorMath.exp(g.neg()).add(1f)).mul(FloatVector.fromArray(F, up, i))
                    .intoArray(gate, i);
        }
        gateScalar(gate, up, i, n);
    }

    /** The scalar reference of {@link #gate}, over [from, n). */
    public static void gateScalar(float[] gate, float[] up, int from, int n) {
        for (int i = from; i < n; i++) {
            float g = gate[i];
            gate[i] = g / (1f + (float) Math.exp(-g)) * up[i];
        }
    }
}
