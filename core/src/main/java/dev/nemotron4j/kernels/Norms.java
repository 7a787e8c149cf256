package dev.nemotron4j.kernels;

/** Normalisations over one vector of {@code dim} values; statistics are accumulated in double. */
public final class Norms {
    private Norms() {
    }

    /** out = (x − mean) / sqrt(var + eps) · weight + bias, with the biased variance. */
    public static void layerNorm(float[] out, int outOffset, float[] x, int xOffset, float[] weight, float[] bias,
                                 int dim, float eps) {
        double sum = 0;
        for (int i = 0; i < dim; i++) {
            sum += x[xOffset + i];
        }
        double mean = sum / dim;
        double sq = 0;
        for (int i = 0; i < dim; i++) {
            double d = x[xOffset + i] - mean;
            sq += d * d;
        }
        double inv = 1.0 / Math.sqrt(sq / dim + eps);
        for (int i = 0; i < dim; i++) {
            out[outOffset + i] = (float) ((x[xOffset + i] - mean) * inv) * weight[i] + bias[i];
        }
    }

    /** out = x / sqrt(mean(x²) + eps) · weight. */
    public static void rmsNorm(float[] out, int outOffset, float[] x, int xOffset, float[] weight, int dim, float eps) {
        double sq = 0;
        for (int i = 0; i < dim; i++) {
            double v = x[xOffset + i];
            sq += v * v;
        }
        double inv = 1.0 / Math.sqrt(sq / dim + eps);
        for (int i = 0; i < dim; i++) {
            out[outOffset + i] = (float) (x[xOffset + i] * inv) * weight[i];
        }
    }
}
