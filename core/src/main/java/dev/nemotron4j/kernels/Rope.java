package dev.nemotron4j.kernels;

/**
 * Rotary position embedding on the first {@code rotDims} dims of a head. Pair i (0 ≤ i < rotDims/2) turns by the angle
 * pos · theta^(−2i/rotDims); NEOX pairs dims (i, i + rotDims/2), ADJACENT pairs (2i, 2i + 1). Dims past rotDims pass
 * through unchanged (Nemotron's partial rotary).
 */
public final class Rope {

    public enum Pairing { NEOX, ADJACENT }

    private final int rotDims;
    private final Pairing pairing;
    private final float[] cos;
    private final float[] sin;

    public Rope(int rotDims, Pairing pairing, float theta, int maxPositions) {
        this.rotDims = rotDims;
        this.pairing = pairing;
        int half = rotDims / 2;
        cos = new float[maxPositions * half];
        sin = new float[maxPositions * half];
        for (int p = 0; p < maxPositions; p++) {
            for (int i = 0; i < half; i++) {
                double angle = p * Math.pow(theta, -2.0 * i / rotDims);
                cos[p * half + i] = (float) Math.cos(angle);
                sin[p * half + i] = (float) Math.sin(angle);
            }
        }
    }

    /** Rotates {@code heads} consecutive heads of {@code headDim} values starting at v[offset], at position pos. */
    public void apply(float[] v, int offset, int heads, int headDim, int pos) {
        int half = rotDims / 2;
        int table = pos * half;
        for (int h = 0; h < heads; h++) {
            int base = offset + h * headDim;
            for (int i = 0; i < half; i++) {
                int a = pairing == Pairing.NEOX ? base + i : base + 2 * i;
                int b = pairing == Pairing.NEOX ? base + i + half : base + 2 * i + 1;
                float c = cos[table + i];
                float s = sin[table + i];
                float x0 = v[a];
                float x1 = v[b];
                v[a] = x0 * c - x1 * s;
                v[b] = x1 * c + x0 * s;
            }
        }
    }
}
