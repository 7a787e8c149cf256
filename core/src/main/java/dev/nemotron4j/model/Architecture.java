package dev.nemotron4j.model;

import com.fasterxml.jackson.databind.JsonNode;
import dev.nemotron4j.formats.ModelFormatException;
import dev.nemotron4j.formats.gguf.GGUFFile;

import java.util.List;

/**
 * What distinguishes one model family from another: how its hyper-parameters are spelled in GGUF and HF configs, and
 * the conventions of each file family (Nemotron's HF norm weights lack their "+1"; GGUF llama permutes Q/K rows so its
 * rope pairs adjacent dims). The forward pass itself is shared.
 */
public sealed interface Architecture permits NemotronArchitecture, LlamaArchitecture {

    List<Architecture> ALL = List.of(new NemotronArchitecture(), new LlamaArchitecture());

    /** GGUF {@code general.architecture} value. */
    String ggufName();

    /** Whether this class handles an HF config with this {@code model_type}. */
    boolean handlesHfModelType(String modelType);

    ModelConfig configFromGguf(GGUFFile gguf);

    ModelConfig configFromHf(JsonNode config);

    /** Value added to every stored norm weight to get the scale the math uses. */
    float normWeightOffset(TensorNames names);

    static Architecture forGguf(String name) {
        for (Architecture a : ALL) {
            if (a.ggufName().equals(name)) {
                return a;
            }
        }
        throw new ModelFormatException("unknown architecture '" + name + "' (supported: nemotron, llama)");
    }

    static Architecture forHf(JsonNode config) {
        String modelType = config.path("model_type").asText("");
        for (Architecture a : ALL) {
            if (a.handlesHfModelType(modelType)) {
                return a;
            }
        }
        throw new ModelFormatException("unknown architecture: config.json model_type '" + modelType
                + "' (supported: nemotron, mistral, llama)");
    }
}
