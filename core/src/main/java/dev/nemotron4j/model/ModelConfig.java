package dev.nemotron4j.model;

import dev.nemotron4j.formats.ModelFormatException;
import dev.nemotron4j.kernels.Rope;

/**
 * Architecture-neutral hyper-parameters of a decoder-only transformer, read from a GGUF header or an HF config.json.
 * Everything the forward pass needs to know about an architecture is here as data.
 *
 * @param ropeDims     leading dims of each head that rotate (Nemotron: half of head_dim; the rest pass through)
 * @param ropePairing  which dims form a rotation pair: NEOX pairs (i, i + ropeDims/2), ADJACENT pairs (2i, 2i+1)
 */
public record ModelConfig(
        String architecture,
        int dim,
        int hiddenDim,
        int layers,
        int heads,
        int kvHeads,
        int headDim,
        int vocabSize,
        int contextLength,
        float normEps,
        NormKind normKind,
        MlpKind mlpKind,
        float ropeTheta,
        int ropeDims,
        Rope.Pairing ropePairing,
        int bosToken,
        int eosToken) {

    public ModelConfig {
        if (heads % kvHeads != 0) {
            throw new ModelFormatException("attention heads (" + heads + ") must be a multiple of key/value heads ("
                    + kvHeads + ")");
        }
        if (ropeDims <= 0 || ropeDims > headDim || ropeDims % 2 != 0) {
            throw new ModelFormatException("rotary dims " + ropeDims + " must be even and at most head_dim " + headDim);
        }
        if (contextLength <= 0) {
            throw new ModelFormatException("context length must be positive, got " + contextLength);
        }
    }

    /** LayerNorm with weight and bias (Nemotron's LayerNorm1P once its +1 is folded in) or RMSNorm (Llama family). */
    public enum NormKind { LAYER_NORM, RMS_NORM }

    /** down(relu(up(x))²) for Nemotron, down(silu(gate(x)) · up(x)) for the Llama family. */
    public enum MlpKind { RELU_SQUARED, SILU_GATED }

    public int qDim() {
        return heads * headDim;
    }

    public int kvDim() {
        return kvHeads * headDim;
    }

    /** Number of query heads that share one key/value head (GQA). */
    public int groupSize() {
        return heads / kvHeads;
    }
}
