package dev.nemotron4j.model.synth;

import dev.nemotron4j.InvalidInputException;
import dev.nemotron4j.tensor.GGMLType;

import java.util.Arrays;
import java.util.Locale;

/**
 * The weight type of a synthetic file, with llama.cpp's {@code general.file_type} (llama_ftype) for it. Q4_K is
 * labelled Q4_K_S (14): every matrix is Q4_K, none is raised to Q5_K/Q6_K as Q4_K_M would.
 */
public enum SynthType {
    F32(GGMLType.F32, 0),
    F16(GGMLType.F16, 1),
    BF16(GGMLType.BF16, 32),
    Q8_0(GGMLType.Q8_0, 7),
    Q4_0(GGMLType.Q4_0, 2),
    Q4_K(GGMLType.Q4_K, 14);

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
     * The type a matrix with rows of {@code rowLength} gets. Q4_K needs rows of 256; like llama-quantize, narrower rows
     * fall back to a 32-block type: Q4_0 here (llama-quantize picks Q5_0, which this engine cannot quantize to).
     */
    GGMLType matrixType(long rowLength) {
        if (rowLength % ggml.blockSize == 0) {
            return ggml;
        }
        return rowLength % GGMLType.Q4_0.blockSize == 0 ? GGMLType.Q4_0 : GGMLType.F16;
    }
}
