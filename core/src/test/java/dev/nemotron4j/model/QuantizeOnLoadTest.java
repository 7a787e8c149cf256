package dev.nemotron4j.model;

import dev.nemotron4j.Golden;
import dev.nemotron4j.model.LoadOptions.Quantize;
import dev.nemotron4j.tensor.GGMLType;
import dev.nemotron4j.tensor.WeightTensor;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** HF bf16 checkpoints quantized while loading: every matrix changes format, the logits stay near the reference. */
class QuantizeOnLoadTest {

    /**
     * Bounds: Q8_0 those the golden README sets for quantized files (max abs 0.5, mean abs 0.06, argmax on 90 % of
     * positions); 4-bit weights move these tiny random models far more (the README's q4_0 file against numpy: max abs
     * 3.69, mean abs 0.486, argmax on 24 of 48 positions of sequence B), so Q4_0 gets bounds just above those.
     */
    @ParameterizedTest(name = "{0} {1}")
    @CsvSource({"tiny-nemotron, Q8_0, 0.5, 0.06, 0.9", "tiny-mistral, Q8_0, 0.5, 0.06, 0.9",
            "tiny-nemotron, Q4_0, 5.0, 0.7, 0.4"})
    void bf16CheckpointQuantizedOnLoad(String model, Quantize quantize, float maxBound, double meanBound,
                                       double minAgreement) {
        Path path = Golden.golden(model).resolve("hf-bf16");
        GGMLType expectedType = GGMLType.valueOf(quantize.name());
        try (Model m = Model.load(path, LoadOptions.quantize(quantize))) {
            for (WeightTensor w : matrices(m.transformer().weights())) {
                assertEquals(expectedType, w.type(), model + " matrix " + w.rows() + "x" + w.cols());
            }
            int vocab = m.config().vocabSize();
            int[] tokens = Golden.tokens(model, "B");
            float[] expected = Golden.floats(Golden.reference(model, "numpy-bf16weights-seqB.f32"));
            float[] got = m.transformer().forward(m.newState(tokens.length), tokens, true);
            float maxAbs = Golden.maxAbsDiff(got, expected, expected.length);
            double sum = 0;
            for (int i = 0; i < expected.length; i++) {
                sum += Math.abs(got[i] - expected[i]);
            }
            int agree = 0;
            for (int t = 0; t < tokens.length; t++) {
                agree += Golden.argmax(got, t * vocab, vocab) == Golden.argmax(expected, t * vocab, vocab) ? 1 : 0;
            }
            assertTrue(maxAbs < maxBound, model + " " + quantize + " max abs vs bf16 reference " + maxAbs);
            assertTrue(sum / expected.length < meanBound, model + " " + quantize + " mean abs " + sum / expected.length);
            assertTrue(agree >= minAgreement * tokens.length, model + " " + quantize + " argmax agreement " + agree);
        }
    }

    private static List<WeightTensor> matrices(Weights weights) {
        List<WeightTensor> out = new ArrayList<>(List.of(weights.tokenEmbedding(), weights.output()));
        for (LayerWeights l : weights.layers()) {
            out.addAll(List.of(l.wq(), l.wk(), l.wv(), l.wo(), l.up(), l.down()));
            if (l.gate() != null) {
                out.add(l.gate());
            }
        }
        return out;
    }
}
