package dev.nemotron4j.model;

import dev.nemotron4j.tensor.WeightTensor;

/**
 * The weights of one decoder layer in canonical form. Norm weights already include any offset the file format leaves
 * out (Nemotron's "+1"); {@code attnNormBias}/{@code ffnNormBias} are null for RMSNorm and {@code gate} is null for
 * the ungated relu² MLP. Matrices are {@code [out, in]}.
 */
public record LayerWeights(
        float[] attnNormWeight, float[] attnNormBias,
        WeightTensor wq, WeightTensor wk, WeightTensor wv, WeightTensor wo,
        float[] ffnNormWeight, float[] ffnNormBias,
        WeightTensor gate, WeightTensor up, WeightTensor down) {
}
