package dev.nemotron4j.model;

import dev.nemotron4j.tensor.WeightTensor;

import java.lang.foreign.MemorySegment;

/** All weights of a model in the one layout the forward pass reads, whatever file they came from. */
public record Weights(
        WeightTensor tokenEmbedding,
        LayerWeights[] layers,
        float[] outputNormWeight, float[] outputNormBias,
        WeightTensor output) {
    /** Pages around a looked-up row that are dropped from memory again (see {@link #embed}). */
    private static final long RELEASE_WINDOW = 2L << 20;

    /**
     * Bytes one decode step reads from the weights: every matrix and norm vector in the form the forward pass reads
     * (a matrix packed at load takes its packed size, larger than the file's for the K formats), and one row of an
     * untied embedding table.
     */
    public long bytesPerToken() {
        long bytes = output.data().byteSize() + LayerWeights.floatBytes(outputNormWeight, outputNormBias);
        if (tokenEmbedding != output) {
            bytes += tokenEmbedding.type().byteSize(tokenEmbedding.cols());
        }
        for (LayerWeights layer : layers) {
            bytes += layer.bytes();
        }
        return bytes;
    }

    /**
     * Writes the embedding of {@code token} to {@code out[offset…]}. An untied embedding read straight from the file
     * is touched a row or two per token, but each page fault maps the whole page-cache folio around the row (about
     * 400 KB per row measured): a few hundred distinct tokens kept 250 MB of it resident. So the aligned 2 MB around
     * the row is dropped from memory again; the file stays in the page cache, and the next lookup of a row there
     * faults it back in.
     */
    public void embed(int token, float[] out, int offset) {
        tokenEmbedding.dequantizeRow(token, out, offset);
        MemorySegment table = tokenEmbedding.data();
        if (tokenEmbedding == output || !table.isMapped()) {
            return; // a tied table is the output matrix too, read whole for every token
        }
        long base = table.address();
        long window = (base + tokenEmbedding.type().byteSize(tokenEmbedding.cols()) * token) & -RELEASE_WINDOW;
        long start = Math.max(0, window - base);
        long end = Math.min(table.byteSize(), window + RELEASE_WINDOW - base);
        table.asSlice(start, end - start).unload();
    }
}
