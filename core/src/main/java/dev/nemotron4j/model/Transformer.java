package dev.nemotron4j.model;

import dev.nemotron4j.InvalidInputException;
import dev.nemotron4j.kernels.Attention;
import dev.nemotron4j.kernels.Matmul;
import dev.nemotron4j.kernels.Norms;
import dev.nemotron4j.kernels.Rope;
import dev.nemotron4j.model.ModelConfig.MlpKind;
import dev.nemotron4j.model.ModelConfig.NormKind;

/**
 * The decoder-only forward pass shared by every architecture:
 * <pre>
 *   x = E[token]
 *   per layer:  x += Wo · attention(rope(Wq·n1(x)), rope(Wk·n1(x)), Wv·n1(x))
 *               x += mlp(n2(x))        relu²: Wdown·relu(Wup·h)²     gated: Wdown·(silu(Wgate·h) ⊙ Wup·h)
 *   logits = Wout · n(x)
 * </pre>
 * A call evaluates n new tokens of one sequence at once (the prompt in one pass, or one token when decoding): every
 * matrix is applied to all n vectors while its rows are in cache.
 */
public final class Transformer {
    private final ModelConfig config;
    private final Weights weights;
    private final Rope rope;

    public Transformer(ModelConfig config, Weights weights) {
        this.config = config;
        this.weights = weights;
        this.rope = new Rope(config.ropeDims(), config.ropePairing(), config.ropeTheta(), config.contextLength());
    }

    public ModelConfig config() {
        return config;
    }

    public Weights weights() {
        return weights;
    }

    public InferenceState newState(int contextCapacity) {
        return new InferenceState(config, contextCapacity);
    }

    /**
     * Appends {@code tokens} to the sequence of {@code state} and returns logits: {@code [tokens.length][vocab]} when
     * {@code allLogits}, else only the last position's {@code [vocab]}. The returned array belongs to the state and
     * is overwritten by the next call; it may be longer than the rows asked for.
     */
    public float[] forward(InferenceState state, int[] tokens, boolean allLogits) {
        int n = tokens.length;
        int start = state.position();
        validate(state, tokens);
        int dim = config.dim();
        state.ensureBatch(n, allLogits ? n : 1);

        for (int t = 0; t < n; t++) {
            weights.tokenEmbedding().dequantizeRow(tokens[t], state.x, t * dim);
        }
        for (int l = 0; l < config.layers(); l++) {
            LayerWeights layer = weights.layers()[l];
            attentionBlock(state, layer, l, n, start);
            mlpBlock(state, layer, n);
        }
        state.record(tokens);
        state.cache.advance(n);

        int firstRow = allLogits ? 0 : n - 1;
        int rows = n - firstRow;
        for (int t = 0; t < rows; t++) {
            norm(state.xb, t * dim, state.x, (firstRow + t) * dim, weights.outputNormWeight(),
                    weights.outputNormBias());
        }
        Matmul.matmul(weights.output(), state.xb, rows, state.logits);
        return state.logits;
    }

    private void attentionBlock(InferenceState s, LayerWeights layer, int l, int n, int start) {
        int dim = config.dim();
        int kvDim = config.kvDim();
        int headDim = config.headDim();
        for (int t = 0; t < n; t++) {
            norm(s.xb, t * dim, s.x, t * dim, layer.attnNormWeight(), layer.attnNormBias());
        }
        Matmul.matmul(layer.wq(), s.xb, n, s.q);
        Matmul.matmul(layer.wk(), s.xb, n, s.k);
        Matmul.matmul(layer.wv(), s.xb, n, s.v);
        float[] keys = s.cache.keys[l];
        float[] values = s.cache.values[l];
        for (int t = 0; t < n; t++) {
            rope.apply(s.q, t * config.qDim(), config.heads(), headDim, start + t);
            rope.apply(s.k, t * kvDim, config.kvHeads(), headDim, start + t);
            System.arraycopy(s.k, t * kvDim, keys, (start + t) * kvDim, kvDim);
            System.arraycopy(s.v, t * kvDim, values, (start + t) * kvDim, kvDim);
        }
        Attention.attendAll(s.q, keys, values, kvDim, config.heads(), config.groupSize(), headDim, n, start,
                s.scores, s.att);
        Matmul.matmul(layer.wo(), s.att, n, s.proj);
        addInPlace(s.x, s.proj, n * dim);
    }

    private void mlpBlock(InferenceState s, LayerWeights layer, int n) {
        int dim = config.dim();
        int hiddenSize = n * config.hiddenDim();
        for (int t = 0; t < n; t++) {
            norm(s.xb, t * dim, s.x, t * dim, layer.ffnNormWeight(), layer.ffnNormBias());
        }
        Matmul.matmul(layer.up(), s.xb, n, s.up);
        if (config.mlpKind() == MlpKind.SILU_GATED) {
            Matmul.matmul(layer.gate(), s.xb, n, s.hidden);
            for (int i = 0; i < hiddenSize; i++) {
                float g = s.hidden[i];
                s.hidden[i] = g / (1f + (float) Math.exp(-g)) * s.up[i];
            }
        } else {
            for (int i = 0; i < hiddenSize; i++) {
                float r = Math.max(0f, s.up[i]);
                s.hidden[i] = r * r;
            }
        }
        Matmul.matmul(layer.down(), s.hidden, n, s.proj);
        addInPlace(s.x, s.proj, n * dim);
    }

    private void norm(float[] out, int outOffset, float[] x, int xOffset, float[] weight, float[] bias) {
        if (config.normKind() == NormKind.LAYER_NORM) {
            Norms.layerNorm(out, outOffset, x, xOffset, weight, bias, config.dim(), config.normEps());
        } else {
            Norms.rmsNorm(out, outOffset, x, xOffset, weight, config.dim(), config.normEps());
        }
    }

    private static void addInPlace(float[] x, float[] delta, int n) {
        for (int i = 0; i < n; i++) {
            x[i] += delta[i];
        }
    }

    /** Throws {@link InvalidInputException} unless {@code tokens} can be appended to the sequence of {@code state}. */
    public void validate(InferenceState state, int[] tokens) {
        if (state.config != config) {
            throw new IllegalArgumentException("state was made for another model");
        }
        if (tokens.length == 0) {
            throw new InvalidInputException("no tokens to evaluate");
        }
        for (int token : tokens) {
            if (token < 0 || token >= config.vocabSize()) {
                throw new InvalidInputException("token id " + token + " is outside the vocabulary [0, "
                        + config.vocabSize() + ")");
            }
        }
        int needed = state.position() + tokens.length;
        if (needed > state.cache.capacity()) {
            throw new InvalidInputException(needed + " tokens do not fit the context of " + state.cache.capacity()
                    + " tokens (" + state.position() + " already in the sequence)");
        }
    }
}
