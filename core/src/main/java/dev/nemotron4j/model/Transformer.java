package dev.nemotron4j.model;

import dev.nemotron4j.InvalidInputException;
import dev.nemotron4j.kernels.Attention;
import dev.nemotron4j.kernels.Matmul;
import dev.nemotron4j.kernels.Norms;
import dev.nemotron4j.kernels.ReluSquared;
import dev.nemotron4j.kernels.Rope;
import dev.nemotron4j.kernels.Silu;
import dev.nemotron4j.model.ModelConfig.MlpKind;
import dev.nemotron4j.model.ModelConfig.NormKind;

import java.util.Arrays;

/**
 * The decoder-only forward pass shared by every architecture:
 * <pre>
 *   x = E[token]
 *   per layer:  x += Wo · attention(rope(Wq·n1(x)), rope(Wk·n1(x)), Wv·n1(x))
 *               x += mlp(n2(x))        relu²: Wdown·relu(Wup·h)²     gated: Wdown·(silu(Wgate·h) ⊙ Wup·h)
 *   logits = Wout · n(x)
 * </pre>
 * A call evaluates n rows at once — the prompt of one sequence, or one new token of each of several sequences — so
 * every matrix is applied to all n vectors while its rows are in cache. Each row attends to its own sequence only.
 */
public final class Transformer {
    private final ModelConfig config;
    private final Weights weights;
    private final Rope rope;
    private final KvCache.Type kvCache;

    public Transformer(ModelConfig config, Weights weights, KvCache.Type kvCache) {
        this.config = config;
        this.weights = weights;
        this.kvCache = kvCache;
        this.rope = new Rope(config.ropeDims(), config.ropePairing(), config.ropeTheta(), config.contextLength());
    }

    public ModelConfig config() {
        return config;
    }

    public Weights weights() {
        return weights;
    }

    /**
     * Prompt rows per pass when only the last logits are wanted: the activation buffers are sized by the longest pass
     * (about 100 MB at 512 rows on Minitron-8B), and each pass decodes every weight row once more for the prompt
     * product (at 128 rows that decoding was 4.7 % of a 512-token prompt; 256 rows: pp512 +5 % on the 4B Q4_0, 35 MB
     * more resident on Minitron-8B).
     */
    static final int PROMPT_CHUNK = 256;

    public InferenceState newState(int contextCapacity) {
        return new InferenceState(config, contextCapacity, kvCache);
    }

    /**
     * Appends {@code tokens} to the sequence of {@code state} and returns logits: {@code [tokens.length][vocab]} when
     * {@code allLogits}, else only the last position's {@code [vocab]}. The returned array belongs to the state and
     * is overwritten by the next call; it may be longer than the rows asked for.
     */
    public float[] forward(InferenceState state, int[] tokens, boolean allLogits) {
        validate(state, tokens);
        int done = 0;
        while (!allLogits && tokens.length - done > PROMPT_CHUNK) {
            int[] chunk = Arrays.copyOfRange(tokens, done, done + PROMPT_CHUNK);
            forwardRows(state.buffers, state.rowsOfSelf(PROMPT_CHUNK), chunk, PROMPT_CHUNK);
            done += PROMPT_CHUNK;
        }
        int[] rest = done == 0 ? tokens : Arrays.copyOfRange(tokens, done, tokens.length);
        return forwardRows(state.buffers, state.rowsOfSelf(rest.length), rest, allLogits ? 0 : rest.length - 1);
    }

    /**
     * Appends one token to each of several sequences in one pass (continuous batching) and returns their logits,
     * row r for {@code states[r]}, in {@code buffers}. The sequences must be distinct.
     */
    public float[] forwardBatch(ForwardBuffers buffers, InferenceState[] states, int[] tokens) {
        if (states.length != tokens.length) {
            throw new IllegalArgumentException(states.length + " sequences but " + tokens.length + " tokens");
        }
        for (int r = 0; r < states.length; r++) {
            validate(states[r], new int[] {tokens[r]});
            for (int o = 0; o < r; o++) {
                if (states[o] == states[r]) {
                    throw new IllegalArgumentException("a sequence appears twice in one batch");
                }
            }
        }
        return forwardRows(buffers, states, tokens, 0);
    }

    /** Evaluates row r = token {@code tokens[r]} of {@code states[r]}; rows from {@code firstLogitRow} on get logits. */
    private float[] forwardRows(ForwardBuffers b, InferenceState[] states, int[] tokens, int firstLogitRow) {
        int n = tokens.length;
        int dim = config.dim();
        b.ensure(n, n - firstLogitRow);
        for (int r = 0; r < n; r++) {
            // Rows of the same sequence follow each other: each row sits one past the previous one.
            b.positions[r] = r > 0 && states[r] == states[r - 1] ? b.positions[r - 1] + 1 : states[r].position();
        }

        for (int r = 0; r < n; r++) {
            weights.embed(tokens[r], b.x, r * dim);
        }
        for (int l = 0; l < config.layers(); l++) {
            LayerWeights layer = weights.layers()[l];
            attentionBlock(b, layer, l, states, n);
            mlpBlock(b, layer, n);
        }
        for (int r = 0; r < n; r++) {
            states[r].append(tokens[r]);
        }

        int rows = n - firstLogitRow;
        if (rows == 0) {
            return b.logits;
        }
        for (int r = 0; r < rows; r++) {
            norm(b.xb, r * dim, b.x, (firstLogitRow + r) * dim, weights.outputNormWeight(), weights.outputNormBias());
        }
        Matmul.matmul(weights.output(), b.xb, rows, b.logits);
        return b.logits;
    }

    private void attentionBlock(ForwardBuffers b, LayerWeights layer, int l, InferenceState[] states, int n) {
        int dim = config.dim();
        int qDim = config.qDim();
        int kvDim = config.kvDim();
        int headDim = config.headDim();
        for (int r = 0; r < n; r++) {
            norm(b.xb, r * dim, b.x, r * dim, layer.attnNormWeight(), layer.attnNormBias());
        }
        Matmul.matmul(b.xb, n, layer.wq(), b.q, layer.wk(), b.k, layer.wv(), b.v);
        // Every row's key and value go into its sequence's cache before any row attends, so a prompt row sees
        // the rows before it.
        int[] positions = b.positions;
        for (int r = 0; r < n; r++) {
            rope.apply(b.q, r * qDim, config.heads(), headDim, positions[r]);
            rope.apply(b.k, r * kvDim, config.kvHeads(), headDim, positions[r]);
            KvCache cache = states[r].cache; // of this model's cache type (validate)
            cache.put(l, positions[r], b.k, r * kvDim, b.v, r * kvDim);
            if (kvCache == KvCache.Type.F16) {
                b.rowHalfKeys[r] = cache.halfKeys[l];
                b.rowHalfValues[r] = cache.halfValues[l];
            } else {
                b.rowKeys[r] = cache.keys[l];
                b.rowValues[r] = cache.values[l];
            }
        }
        if (kvCache == KvCache.Type.F16) {
            Attention.attendAllHalf(b.q, b.rowHalfKeys, b.rowHalfValues, positions, kvDim, config.heads(),
                    config.groupSize(), headDim, n, b.att);
        } else {
            Attention.attendAll(b.q, b.rowKeys, b.rowValues, positions, kvDim, config.heads(), config.groupSize(),
                    headDim, n, b.att);
        }
        Matmul.matmul(layer.wo(), b.att, n, b.proj);
        addInPlace(b.x, b.proj, n * dim);
    }

    private void mlpBlock(ForwardBuffers b, LayerWeights layer, int n) {
        int dim = config.dim();
        int hiddenSize = n * config.hiddenDim();
        for (int r = 0; r < n; r++) {
            norm(b.xb, r * dim, b.x, r * dim, layer.ffnNormWeight(), layer.ffnNormBias());
        }
        if (config.mlpKind() == MlpKind.SILU_GATED) {
            Matmul.matmul(b.xb, n, layer.up(), b.up, layer.gate(), b.hidden, null, null);
            Silu.gate(b.hidden, b.up, hiddenSize);
        } else {
            Matmul.matmul(layer.up(), b.xb, n, b.up);
            ReluSquared.apply(b.up, b.hidden, hiddenSize);
        }
        Matmul.matmul(layer.down(), b.hidden, n, b.proj);
        addInPlace(b.x, b.proj, n * dim);
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
        if (state.cache.type() != kvCache) {
            throw new IllegalArgumentException("state has an " + state.cache.type() + " KV cache, this model makes "
                    + kvCache + " ones");
        }
        if (tokens.length == 0) {
            throw new InvalidInputException("no tokens to evaluate");
        }
        checkTokenIds(tokens);
        int needed = state.position() + tokens.length;
        if (needed > state.cache.capacity()) {
            throw new InvalidInputException(needed + " tokens do not fit the context of " + state.cache.capacity()
                    + " tokens (" + state.position() + " already in the sequence)");
        }
    }

    /** Throws {@link InvalidInputException} naming the first token id outside the vocabulary. */
    public void checkTokenIds(int[] tokens) {
        for (int token : tokens) {
            if (token < 0 || token >= config.vocabSize()) {
                throw new InvalidInputException("token id " + token + " is outside the vocabulary [0, "
                        + config.vocabSize() + ")");
            }
        }
    }
}
