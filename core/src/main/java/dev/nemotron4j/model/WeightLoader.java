package dev.nemotron4j.model;

import dev.nemotron4j.formats.ModelFile;
import dev.nemotron4j.formats.ModelFormatException;
import dev.nemotron4j.formats.TensorEntry;
import dev.nemotron4j.model.ModelConfig.MlpKind;
import dev.nemotron4j.model.ModelConfig.NormKind;
import dev.nemotron4j.model.TensorNames.Part;
import dev.nemotron4j.tensor.WeightTensor;

import java.lang.foreign.Arena;
import java.util.Arrays;

/**
 * Builds the canonical {@link Weights} from a model file: finds each tensor by its name in that file family, checks its
 * shape against the config, and applies the family's conventions once, here. Matrices stay views of the mapped file
 * unless they are quantized or packed on load (or were, into the {@link WeightCache}); the small norm vectors are
 * copied (to add Nemotron's +1).
 */
final class WeightLoader {
    private final ModelFile file;
    private final ModelConfig config;
    private final TensorNames names;
    private final float normOffset;
    private final WeightQuantizer quantizer;
    private final WeightPacker packer;
    private final WeightCache cache;

    private WeightLoader(ModelFile file, ModelConfig config, TensorNames names, float normOffset,
                         WeightQuantizer quantizer, WeightPacker packer, WeightCache cache) {
        this.file = file;
        this.config = config;
        this.names = names;
        this.normOffset = normOffset;
        this.quantizer = quantizer;
        this.packer = packer;
        this.cache = cache;
    }

    static Weights load(ModelFile file, ModelConfig config, Architecture architecture, TensorNames names,
                        LoadOptions options, WeightCache cache, Arena arena) {
        return new WeightLoader(file, config, names, architecture.normWeightOffset(names),
                new WeightQuantizer(options.quantize(), arena), new WeightPacker(options.pack(), arena), cache).load();
    }

    private Weights load() {
        int dim = config.dim();
        boolean tied = !file.tensors().containsKey(names.output);
        // Only a few rows of an untied embedding are read per token: not worth packing.
        WeightTensor embedding = tied
                ? matrix(names.tokenEmbedding, config.vocabSize(), dim)
                : cached(names.tokenEmbedding, config.vocabSize(), dim, false);
        LayerWeights[] layers = new LayerWeights[config.layers()];
        for (int l = 0; l < layers.length; l++) {
            boolean gated = config.mlpKind() == MlpKind.SILU_GATED;
            layers[l] = new LayerWeights(
                    normWeight(names.layer(l, Part.ATTN_NORM)), normBias(names.layer(l, Part.ATTN_NORM)),
                    matrix(names.layer(l, Part.Q), config.qDim(), dim),
                    matrix(names.layer(l, Part.K), config.kvDim(), dim),
                    matrix(names.layer(l, Part.V), config.kvDim(), dim),
                    matrix(names.layer(l, Part.O), dim, config.qDim()),
                    normWeight(names.layer(l, Part.FFN_NORM)), normBias(names.layer(l, Part.FFN_NORM)),
                    gated ? matrix(names.layer(l, Part.GATE), config.hiddenDim(), dim) : null,
                    matrix(names.layer(l, Part.UP), config.hiddenDim(), dim),
                    matrix(names.layer(l, Part.DOWN), dim, config.hiddenDim()));
        }
        // Tied embeddings: files that share the matrix simply omit the output tensor.
        WeightTensor output = tied ? embedding : matrix(names.output, config.vocabSize(), dim);
        return new Weights(embedding, layers, normWeight(names.outputNorm), normBias(names.outputNorm), output);
    }

    private WeightTensor matrix(String name, int rows, int cols) {
        return cached(name, rows, cols, true);
    }

    /** The matrix from the weight cache, else read, quantized and (if {@code pack}) packed, then kept in the cache. */
    private WeightTensor cached(String name, int rows, int cols, boolean pack) {
        WeightTensor m = cache.find(name, rows, cols);
        if (m != null) {
            return m;
        }
        WeightTensor source = checked(name, rows, cols);
        m = quantizer.apply(source);
        m = pack ? packer.apply(m) : m;
        if (m != source) {
            cache.keep(name, m);
        }
        return m;
    }

    private WeightTensor checked(String name, int rows, int cols) {
        TensorEntry t = file.tensor(name);
        expectShape(t, rows, cols);
        return t.asMatrix();
    }

    private float[] normWeight(String prefix) {
        TensorEntry t = file.tensor(prefix + ".weight");
        expectShape(t, config.dim());
        float[] w = t.toFloatArray();
        if (normOffset != 0f) {
            for (int i = 0; i < w.length; i++) {
                w[i] += normOffset;
            }
        }
        return w;
    }

    private float[] normBias(String prefix) {
        if (config.normKind() == NormKind.RMS_NORM) {
            return null;
        }
        TensorEntry t = file.tensor(prefix + ".bias");
        expectShape(t, config.dim());
        return t.toFloatArray();
    }

    private void expectShape(TensorEntry t, long... expected) {
        if (!Arrays.equals(t.shape(), expected)) {
            throw new ModelFormatException("tensor '" + t.name() + "' has shape " + t.shapeString()
                    + " but the model config implies " + Arrays.toString(expected));
        }
    }
}
