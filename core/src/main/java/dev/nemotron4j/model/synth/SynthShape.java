package dev.nemotron4j.model.synth;

import dev.nemotron4j.InvalidInputException;

import java.util.List;

/**
 * The shape of a synthetic model: the hyper-parameters of a real checkpoint (or of a golden tiny model) and the token
 * ids its vocabulary reserves.
 *
 * @param name      preset name, as {@code synth --arch} takes it
 * @param ggufArch  GGUF {@code general.architecture}: {@code nemotron} (LayerNorm with bias, relu² MLP, partial NeoX
 *                  RoPE) or {@code llama} (RMSNorm, SiLU-gated MLP)
 * @param padId     padding token id, or −1 when the real model defines none
 */
public record SynthShape(
        String name,
        String ggufArch,
        String displayName,
        int dim,
        int hiddenDim,
        int layers,
        int heads,
        int kvHeads,
        int headDim,
        int ropeDims,
        int vocabSize,
        int contextLength,
        float normEps,
        float ropeTheta,
        int bosId,
        int eosId,
        int unkId,
        int padId) {

    /** Nemotron-Mini-4B-Instruct, specs A.1. */
    public static final SynthShape NEMOTRON_MINI_4B = new SynthShape("nemotron-mini-4b", "nemotron",
            "Nemotron-Mini-4B-Instruct (synthetic)", 3072, 9216, 32, 24, 8, 128, 64, 256000, 4096, 1e-5f, 10000f,
            2, 3, 1, 0);
    /** Mistral-NeMo-Minitron-8B-Instruct, specs A.2 (GGUF arch llama). */
    public static final SynthShape MINITRON_8B = new SynthShape("minitron-8b", "llama",
            "Mistral-NeMo-Minitron-8B-Instruct (synthetic)", 4096, 11520, 40, 32, 8, 128, 128, 131072, 8192, 1e-5f,
            1e6f, 1, 2, 0, -1);
    /** The golden tiny-nemotron shape. */
    public static final SynthShape TINY_NEMOTRON = new SynthShape("tiny-nemotron", "nemotron",
            "tiny-nemotron (synthetic)", 64, 192, 2, 4, 2, 16, 8, 512, 256, 1e-5f, 10000f, 2, 3, 1, 0);
    /** The golden tiny-mistral shape. */
    public static final SynthShape TINY_LLAMA = new SynthShape("tiny-llama", "llama",
            "tiny-llama (synthetic)", 64, 192, 2, 4, 2, 16, 16, 512, 256, 1e-5f, 1e6f, 1, 2, 0, -1);

    public static final List<SynthShape> PRESETS = List.of(NEMOTRON_MINI_4B, MINITRON_8B, TINY_NEMOTRON, TINY_LLAMA);

    public static SynthShape preset(String name) {
        for (SynthShape s : PRESETS) {
            if (s.name.equals(name)) {
                return s;
            }
        }
        throw new InvalidInputException("unknown arch '" + name + "'; expected one of "
                + PRESETS.stream().map(SynthShape::name).toList());
    }

    /** The same shape with {@code n} layers (benchmarks on fewer layers). */
    public SynthShape withLayers(int n) {
        if (n <= 0) {
            throw new InvalidInputException("layer count must be positive, got " + n);
        }
        return new SynthShape(name, ggufArch, displayName, dim, hiddenDim, n, heads, kvHeads, headDim, ropeDims,
                vocabSize, contextLength, normEps, ropeTheta, bosId, eosId, unkId, padId);
    }

    public boolean isNemotron() {
        return ggufArch.equals("nemotron");
    }
}
