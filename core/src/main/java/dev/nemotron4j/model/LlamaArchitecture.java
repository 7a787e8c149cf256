package dev.nemotron4j.model;

import com.fasterxml.jackson.databind.JsonNode;
import dev.nemotron4j.formats.ModelFormatException;
import dev.nemotron4j.formats.gguf.GGUFFile;
import dev.nemotron4j.model.ModelConfig.MlpKind;
import dev.nemotron4j.model.ModelConfig.NormKind;
import dev.nemotron4j.kernels.Rope;

/**
 * The Llama family (Mistral-NeMo-Minitron-8B, Mistral, Llama): RMSNorm, SiLU-gated MLP, rotary embedding over the whole
 * head. HF checkpoints pair dims NeoX-style (i, i + head_dim/2); llama.cpp's converter permutes the Q/K rows so GGUF
 * files pair adjacent dims (2i, 2i+1) — rotating with the matching pairing gives identical results.
 */
public final class LlamaArchitecture implements Architecture {

    @Override
    public String ggufName() {
        return "llama";
    }

    @Override
    public boolean handlesHfModelType(String modelType) {
        return modelType.equals("mistral") || modelType.equals("llama");
    }

    @Override
    public ModelConfig configFromGguf(GGUFFile gguf) {
        GgufHyperParameters p = new GgufHyperParameters(gguf, "llama");
        float eps = gguf.getFloat("llama.attention.layer_norm_rms_epsilon", 1e-5f);
        return new ModelConfig("llama", p.dim, p.hiddenDim, p.layers, p.heads, p.kvHeads, p.headDim, p.vocabSize,
                p.contextLength, eps, NormKind.RMS_NORM, MlpKind.SILU_GATED, p.ropeTheta, p.ropeDims,
                Rope.Pairing.ADJACENT, p.bos, p.eos);
    }

    @Override
    public ModelConfig configFromHf(JsonNode json) {
        HfConfigReader c = new HfConfigReader(json);
        String act = c.textOr("hidden_act", "silu");
        if (!act.equals("silu")) {
            throw new ModelFormatException("config.json: hidden_act '" + act + "' is not supported (silu)");
        }
        if (!c.isNullOrAbsent("rope_scaling")) {
            throw new ModelFormatException("config.json: rope_scaling is not supported yet");
        }
        int dim = c.requireInt("hidden_size");
        int heads = c.requireInt("num_attention_heads");
        int headDim = c.intOr("head_dim", dim / heads);
        return new ModelConfig("llama", dim, c.requireInt("intermediate_size"), c.requireInt("num_hidden_layers"),
                heads, c.intOr("num_key_value_heads", heads), headDim, c.requireInt("vocab_size"),
                c.intOr("max_position_embeddings", 4096), (float) c.numberOr(1e-5, "rms_norm_eps"),
                NormKind.RMS_NORM, MlpKind.SILU_GATED, (float) c.numberOr(10000, "rope_theta"), headDim,
                Rope.Pairing.NEOX, c.tokenId("bos_token_id"), c.tokenId("eos_token_id"));
    }

    @Override
    public float normWeightOffset(TensorNames names) {
        return 0f;
    }
}
