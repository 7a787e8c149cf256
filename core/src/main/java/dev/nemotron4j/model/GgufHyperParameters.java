package dev.nemotron4j.model;

import dev.nemotron4j.formats.ModelFormatException;
import dev.nemotron4j.formats.gguf.GGUFFile;

/** The {@code <arch>.*} hyper-parameters every llama.cpp architecture writes with the same key names. */
final class GgufHyperParameters {
    final int dim;
    final int hiddenDim;
    final int layers;
    final int heads;
    final int kvHeads;
    final int headDim;
    final int vocabSize;
    final int contextLength;
    final float ropeTheta;
    final int ropeDims;
    final int bos;
    final int eos;

    GgufHyperParameters(GGUFFile gguf, String arch) {
        dim = positive(gguf, arch + ".embedding_length");
        hiddenDim = positive(gguf, arch + ".feed_forward_length");
        layers = positive(gguf, arch + ".block_count");
        heads = positive(gguf, arch + ".attention.head_count");
        kvHeads = gguf.has(arch + ".attention.head_count_kv") ? positive(gguf, arch + ".attention.head_count_kv") : heads;
        headDim = gguf.has(arch + ".attention.key_length") ? positive(gguf, arch + ".attention.key_length") : dim / heads;
        vocabSize = gguf.has(arch + ".vocab_size") ? positive(gguf, arch + ".vocab_size")
                : gguf.has("tokenizer.ggml.tokens") ? gguf.getArray("tokenizer.ggml.tokens").length()
                : (int) gguf.tensor("token_embd.weight").shape()[0];
        contextLength = gguf.getInt(arch + ".context_length", 4096);
        ropeTheta = gguf.getFloat(arch + ".rope.freq_base", 10000f);
        ropeDims = gguf.has(arch + ".rope.dimension_count") ? positive(gguf, arch + ".rope.dimension_count") : headDim;
        bos = gguf.getInt("tokenizer.ggml.bos_token_id", -1);
        eos = gguf.getInt("tokenizer.ggml.eos_token_id", -1);
        String scaling = gguf.getString(arch + ".rope.scaling.type", "none");
        if (!scaling.equals("none")) {
            throw new ModelFormatException(gguf.path() + ": rope scaling '" + scaling + "' is not supported yet");
        }
    }

    private static int positive(GGUFFile gguf, String key) {
        if (!gguf.has(key)) {
            throw new ModelFormatException(gguf.path() + ": metadata key " + key + " is missing");
        }
        int v = gguf.getInt(key);
        if (v <= 0) {
            throw new ModelFormatException(gguf.path() + ": metadata " + key + " must be positive, got " + v);
        }
        return v;
    }
}
