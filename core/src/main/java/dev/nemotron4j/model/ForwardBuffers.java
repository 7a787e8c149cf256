package dev.nemotron4j.model;

/**
 * Activation buffers of one forward call over n rows (tokens), grown to the largest call seen and then reused, so
 * decoding allocates nothing. A sequence owns one for its own calls; a batch scheduler owns one for its steps.
 */
public final class ForwardBuffers {
    private final ModelConfig config;
    int rows;
    float[] x;       // residual stream, [n][dim]
    float[] xb;      // normalised input of a block, [n][dim]
    float[] q;       // [n][qDim]
    float[] k;       // [n][kvDim]
    float[] v;       // [n][kvDim]
    float[] att;     // attention output, [n][qDim]
    float[] proj;    // output of o_proj / down_proj, [n][dim]
    float[] hidden;  // MLP hidden (gate), [n][hiddenDim]
    float[] up;      // MLP up projection, [n][hiddenDim]
    float[] logits;  // [logit rows][vocab]
    int[] positions;      // [n] the position of each row in its sequence
    float[][] rowKeys;    // [n] the key cache of each row's sequence, for the current layer
    float[][] rowValues;  // [n] likewise the value cache
    short[][] rowHalfKeys;    // [n] the same for caches of half floats
    short[][] rowHalfValues;

    public ForwardBuffers(ModelConfig config) {
        this.config = config;
    }

    /** The logits of the last call: row r of the rows that asked for logits starts at {@code r · vocab}. */
    public float[] logits() {
        return logits;
    }

    void ensure(int n, int logitRows) {
        if (n > rows) {
            rows = n;
            x = new float[n * config.dim()];
            xb = new float[n * config.dim()];
            q = new float[n * config.qDim()];
            k = new float[n * config.kvDim()];
            v = new float[n * config.kvDim()];
            att = new float[n * config.qDim()];
            proj = new float[n * config.dim()];
            hidden = new float[n * config.hiddenDim()];
            up = new float[n * config.hiddenDim()];
            positions = new int[n];
            rowKeys = new float[n][];
            rowValues = new float[n][];
            rowHalfKeys = new short[n][];
            rowHalfValues = new short[n][];
        }
        long logitsSize = (long) logitRows * config.vocabSize();
        if (logits == null || logits.length < logitsSize) {
            logits = new float[Math.toIntExact(logitsSize)];
        }
    }
}
