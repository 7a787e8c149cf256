package dev.nemotron4j.model;

import dev.nemotron4j.tensor.WeightTensor;

/** All weights of a model in the one layout the forward pass reads, whatever file they came from. */
public record Weights(
        WeightTensor tokenEmbedding,
        LayerWeights[] layers,
        float[] outputNormWeight, float[] outputNormBias,
        WeightTensor output) {
}
