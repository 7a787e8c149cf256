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

    /** Bytes of the layer's matrices and norm vectors as the forward pass reads them. */
    long bytes() {
        long bytes = floatBytes(attnNormWeight, attnNormBias, ffnNormWeight, ffnNormBias);
        for (WeightTensor w : new WeightTensor[] {wq, wk, wv, wo, gate, up, down}) {
            bytes += w == null ? 0 : w.data().byteSize();
        }
        return bytes;
    }

    /** Bytes of the given float vectors, null ones counting nothing. */
    static long floatBytes(float[]... vectors) {
        long bytes = 0;
        for (float[] v : vectors) {
            bytes += v == null ? 0 : (long) Float.BYTES * v.length;
        }
        return bytes;
    }
}
