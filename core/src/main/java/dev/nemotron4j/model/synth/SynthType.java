package dev.nemotron4j.model.synth;

import dev.nemotron4j.InvalidInputException;
import dev.nemotron4j.tensor.GGMLType;

import java.util.Arrays;
import java.util.Locale;

/**
 * The weight type of a synthetic file, with llama.cpp's {@code general.file_type} (llama_ftype) for it. Q4_K and
 * Q5_K are labelled Q4_K_S (14) and Q5_K_S (16): every matrix is of that type. Q4_K_M (15) and Q5_K_M (17) raise
 * matrices to Q6_K as llama-quantize does for them: the output matrix, and attn_v and ffn_down in the layers it gives
 * more bits.
 */
public enum SynthType {
    F32(GGMLType.F32, 0),
    F16(GGMLType.F16, 1),
    BF16(GGMLType.BF16, 32),
    Q8_0(GGMLType.Q8_0, 7),
    Q4_0(GGMLType.Q4_0, 2),
    Q4_K(GGMLType.Q4_K, 14),
    Q4_K_M(GGMLType.Q4_K, 15),
    Q5_K(GGMLType.Q5_K, 16),
    Q5_K_M(GGMLType.Q5_K, 17);

    public final GGMLType ggml;
    public final int fileType;

    SynthType(GGMLType ggml, int fileType) {
        this.ggml = ggml;
        this.fileType = fileType;
    }

    /** Lower-case name as the CLI takes it, e.g. {@code q4_k}. */
    public String cliName() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static SynthType parse(String s) {
        for (SynthType t : values()) {
            if (t.cliName().equals(s.toLowerCase(Locale.ROOT))) {
                return t;
            }
        }
        throw new InvalidInputException("unknown type '" + s + "'; expected one of "
                + Arrays.stream(values()).map(SynthType::cliName).toList());
    }

    /**
     * The type matrix {@code name} (of layer {@code layer} of {@code layers}, or −1 outside the layers) with rows of
     * {@code rowLength} gets. K types need rows of 256; like llama-quantize, narrower rows fall back to a 32-block
     * type: Q4_0 here (llama-quantize picks Q5_0, which this engine cannot quantize to).
     */
    GGMLType matrixType(String name, int layer, int layers, long rowLength) {
        GGMLType type = (this == Q4_K_M || this == Q5_K_M) && raisedToQ6_K(name, layer, layers) ? GGMLType.Q6_K
                : ggml;
        if (rowLength % type.blockSize == 0) {
            return type;
        }
        return rowLength % GGMLType.Q4_0.blockSize == 0 ? GGMLType.Q4_0 : GGMLType.F16;
    }

    /** llama-quantize's Q4_K_M and Q5_K_M choice: use_more_bits picks the first and last eighth of layers and every third. */
    private static boolean raisedToQ6_K(String name, int layer, int layers) {
        if (name.equals("output.weight")) {
            return true;
        }
        boolean moreBits = layer < layers / 8 || layer >= 7 * layers / 8 || (layer - layers / 8) % 3 == 2;
        return moreBits && (name.endsWith("attn_v.weight") || name.endsWith("ffn_down.weight"));
    }
}
