package dev.nemotron4j.model;

/** Tensor names of the two file families; both architectures use the same names within a family. */
public enum TensorNames {
    GGUF("token_embd.weight", "output_norm", "output.weight", "blk.%d.") {
        @Override
        String layer(int layer, Part part) {
            return prefix(layer) + switch (part) {
                case ATTN_NORM -> "attn_norm";
                case Q -> "attn_q.weight";
                case K -> "attn_k.weight";
                case V -> "attn_v.weight";
                case O -> "attn_output.weight";
                case FFN_NORM -> "ffn_norm";
                case GATE -> "ffn_gate.weight";
                case UP -> "ffn_up.weight";
                case DOWN -> "ffn_down.weight";
            };
        }
    },
    HF("model.embed_tokens.weight", "model.norm", "lm_head.weight", "model.layers.%d.") {
        @Override
        String layer(int layer, Part part) {
            return prefix(layer) + switch (part) {
                case ATTN_NORM -> "input_layernorm";
                case Q -> "self_attn.q_proj.weight";
                case K -> "self_attn.k_proj.weight";
                case V -> "self_attn.v_proj.weight";
                case O -> "self_attn.o_proj.weight";
                case FFN_NORM -> "post_attention_layernorm";
                case GATE -> "mlp.gate_proj.weight";
                case UP -> "mlp.up_proj.weight";
                case DOWN -> "mlp.down_proj.weight";
            };
        }
    };

    /** The per-layer tensors; norms are prefixes to which ".weight" / ".bias" are appended. */
    enum Part { ATTN_NORM, Q, K, V, O, FFN_NORM, GATE, UP, DOWN }

    final String tokenEmbedding;
    final String outputNorm;
    final String output;
    private final String layerPrefix;

    TensorNames(String tokenEmbedding, String outputNorm, String output, String layerPrefix) {
        this.tokenEmbedding = tokenEmbedding;
        this.outputNorm = outputNorm;
        this.output = output;
        this.layerPrefix = layerPrefix;
    }

    String prefix(int layer) {
        return layerPrefix.formatted(layer);
    }

    abstract String layer(int layer, Part part);
}
