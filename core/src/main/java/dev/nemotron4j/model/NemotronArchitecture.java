package dev.nemotron4j.model;

import com.fasterxml.jackson.databind.JsonNode;
import dev.nemotron4j.formats.ModelFormatException;
import dev.nemotron4j.formats.gguf.GGUFFile;
import dev.nemotron4j.model.ModelConfig.MlpKind;
import dev.nemotron4j.model.ModelConfig.NormKind;
import dev.nemotron4j.kernels.Rope;

/**
 * Nemotron (Nemotron-Mini-4B): LayerNorm1P — a LayerNorm with bias whose scale is weight + 1 — relu² MLP without gate,
 * rotary embedding on the first {@code partial_rotary_factor · head_dim} dims of each head with NeoX pairing in both
 * file families. HF checkpoints store the norm weight without the +1; llama.cpp's converter adds it, so GGUF doesn't.
 */
public final class NemotronArchitecture implements Architecture {

    @Override
    public String ggufName() {
        return "nemotron";
    }

    @Override
    public boolean handlesHfModelType(String modelType) {
        return modelType.equals("nemotron");
    }

    @Override
    public ModelConfig configFromGguf(GGUFFile gguf) {
        GgufHyperParameters p = new GgufHyperParameters(gguf, "nemotron");
        float eps = gguf.getFloat("nemotron.attention.layer_norm_epsilon",
                gguf.getFloat("nemotron.attention.layer_norm_rms_epsilon", 1e-5f));
        return new ModelConfig("nemotron", p.dim, p.hiddenDim, p.layers, p.heads, p.kvHeads, p.headDim, p.vocabSize,
                p.contextLength, eps, NormKind.LAYER_NORM, MlpKind.RELU_SQUARED, p.ropeTheta, p.ropeDims,
                Rope.Pairing.NEOX, p.bos, p.eos);
    }

    @Override
    public ModelConfig configFromHf(JsonNode json) {
        HfConfigReader c = new HfConfigReader(json);
        String act = c.textOr("hidden_act", "relu2");
        if (!act.equals("relu2")) {
            throw new ModelFormatException("config.json: nemotron hidden_act '" + act + "' is not supported (relu2)");
        }
        if (!c.isNullOrAbsent("rope_scaling")) {
            throw new ModelFormatException("config.json: rope_scaling is not supported yet");
        }
        int dim = c.requireInt("hidden_size");
        int heads = c.requireInt("num_attention_heads");
        int headDim = c.intOr("head_dim", c.intOr("kv_channels", dim / heads));
        double partial = c.numberOr(0.5, "partial_rotary_factor", "rope_percent", "rope_pct");
        return new ModelConfig("nemotron", dim, c.requireInt("intermediate_size"), c.requireInt("num_hidden_layers"),
                heads, c.intOr("num_key_value_heads", heads), headDim, c.requireInt("vocab_size"),
                c.intOr("max_position_embeddings", 4096), (float) c.numberOr(1e-5, "norm_eps", "layer_norm_eps"),
                NormKind.LAYER_NORM, MlpKind.RELU_SQUARED, (float) c.numberOr(10000, "rope_theta"),
                (int) (headDim * partial), Rope.Pairing.NEOX, c.tokenId("bos_token_id"), c.tokenId("eos_token_id"));
    }

    @Override
    public float normWeightOffset(TensorNames names) {
        return names == TensorNames.HF ? 1f : 0f;
    }
}
