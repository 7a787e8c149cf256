package dev.nemotron4j.model;

import dev.nemotron4j.formats.TensorEntry;
import dev.nemotron4j.formats.gguf.GGUFFile;
import dev.nemotron4j.model.synth.SynthShape;
import dev.nemotron4j.model.synth.SynthType;
import dev.nemotron4j.model.synth.SyntheticModel;
import dev.nemotron4j.tensor.ColumnBlocks;
import dev.nemotron4j.tensor.GGMLType;
import dev.nemotron4j.tensor.PackedTensor;
import dev.nemotron4j.tensor.Q6_KTensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A model whose matrices are packed on load against the same file used as mapped: the prompt path gives the same
 * logits where it takes float products over the packed rows (Q8_0, Q6_K), and logits within what 8-bit activations
 * cost where it takes integer ones (Q4_0, Q4_K), as the decode path does; and the same greedy choice almost
 * everywhere.
 */
class PackedModelTest {
    @TempDir
    static Path dir;

    /**
     * Down projections wider than a column block, with a tail (5376 = five groups of 1024 + 8 blocks, as Minitron's
     * 11520 is eleven and 8): they are packed as {@link ColumnBlocks}.
     */
    static SynthShape shape(String arch) {
        boolean nemotron = arch.equals("nemotron");
        return new SynthShape("packed-" + arch, arch, "packed test", 1024, 5376, 2, 8, 4, 128, nemotron ? 64 : 128,
                512, 256, 1e-5f, 10000f, nemotron ? 2 : 1, nemotron ? 3 : 2, nemotron ? 1 : 0, nemotron ? 0 : -1);
    }

    @ParameterizedTest(name = "{0} {1}")
    @CsvSource({"nemotron, Q4_0", "llama, Q4_0", "nemotron, Q8_0", "llama, Q8_0", "nemotron, Q4_K", "llama, Q4_K",
            "nemotron, Q4_K_M", "llama, Q4_K_M", "nemotron, Q5_K_M", "llama, Q5_K_M"})
    void packedModelMatchesMappedModel(String arch, SynthType type) {
        Path file = dir.resolve(arch + "-" + type + ".gguf");
        new SyntheticModel(shape(arch), type, 7).write(file, (done, total) -> { });
        int[] prompt = gemmPrompt();
        try (Model mapped = Model.load(file, LoadOptions.DEFAULT.withPack(false));
             Model packed = Model.load(file)) {
            assertInstanceOf(ColumnBlocks.class, packed.transformer().weights().layers()[0].down());
            assertInstanceOf(PackedTensor.class, packed.transformer().weights().output());
            int vocab = mapped.config().vocabSize();

            float[] expected = mapped.transformer().forward(mapped.newState(128), prompt, true);
            float[] got = packed.transformer().forward(packed.newState(128), prompt, true);
            float scale = maxAbs(expected);
            // Packed Q8_0 and Q6_K prompts are float products over the same values; Q4_0 and Q4_K take the integer
            // product on 8-bit activations, which costs what it costs decode (below).
            float bound = type == SynthType.Q8_0 ? 1e-4f : 0.06f;
            assertTrue(maxAbsDiff(expected, got) < bound * scale,
                    "prompt logits differ by " + maxAbsDiff(expected, got) / scale);

            InferenceState a = mapped.newState(128);
            InferenceState b = packed.newState(128);
            int[] decoded = Arrays.copyOf(prompt, 24);
            int agree = 0;
            float worst = 0f;
            for (int token : decoded) {
                float[] e = mapped.transformer().forward(a, new int[] {token}, false);
                float[] g = packed.transformer().forward(b, new int[] {token}, false);
                worst = Math.max(worst, maxAbsDiff(e, g) / maxAbs(e));
                agree += argmax(e, vocab) == argmax(g, vocab) ? 1 : 0;
            }
            assertTrue(worst < 0.06f, "decode logits differ by " + worst + " of their largest magnitude");
            assertTrue(agree >= decoded.length - 2, "greedy choice agrees at " + agree + " of " + decoded.length);
        }
    }

    /**
     * What a decode step reads: mapped, every tensor of the file in full but one row of the embedding; packed, the same
     * for Q4_0 (packed in its own bytes) and more for Q4_K_M, whose Q4_K and Q6_K take 19 and 28 bytes per 32 values
     * against the file's 18 and 26.25.
     */
    @ParameterizedTest(name = "{0}")
    @CsvSource({"Q4_0", "Q4_K_M"})
    void bytesPerTokenAreThoseOfTheFormTheForwardPassReads(SynthType type) {
        Path file = dir.resolve("bytes-" + type + ".gguf");
        new SyntheticModel(shape("nemotron"), type, 5).write(file, (done, total) -> { });
        try (Model mapped = Model.load(file, LoadOptions.DEFAULT.withPack(false)); Model packed = Model.load(file)) {
            long fileBytes = 0;
            for (TensorEntry t : mapped.file().tensors().values()) {
                long size = t.data().byteSize();
                fileBytes += t.name().equals("token_embd.weight") ? size / t.shape()[0] : size;
            }
            assertEquals(fileBytes, mapped.transformer().weights().bytesPerToken());
            long packedBytes = packed.transformer().weights().bytesPerToken();
            if (type == SynthType.Q4_0) {
                assertEquals(fileBytes, packedBytes);
            } else {
                assertTrue(packedBytes > fileBytes && packedBytes <= fileBytes * 28 / 26.25,
                        packedBytes + " bytes packed against " + fileBytes + " in the file");
            }
        }
    }

    /**
     * A Q6_K matrix with a super-block scale whose products leave the f16 range of the packed form (corrupt, or not
     * from a trained model) is decoded unpacked, and the model still answers.
     */
    @Test
    void q6_KScalesBeyondHalfPrecisionLeaveTheMatrixUnpacked() throws IOException {
        Path file = dir.resolve("nemotron-q6k-scale.gguf");
        new SyntheticModel(shape("nemotron"), SynthType.Q4_K_M, 11).write(file, (done, total) -> { });
        long offset;
        try (GGUFFile f = GGUFFile.open(file)) {
            long first = f.tensors().values().stream().mapToLong(t -> t.data().address()).min().orElseThrow();
            TensorEntry output = f.tensors().get("output.weight");
            assertEquals(GGMLType.Q6_K, output.type());
            offset = f.dataOffset() + output.data().address() - first;
        }
        ByteBuffer d = ByteBuffer.allocate(2).order(ByteOrder.LITTLE_ENDIAN).putShort(Float.floatToFloat16(1000f));
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.WRITE)) {
            channel.write(d.flip(), offset + 208); // d of the first super-block
        }
        int[] prompt = gemmPrompt();
        try (Model mapped = Model.load(file, LoadOptions.DEFAULT.withPack(false)); Model packed = Model.load(file)) {
            assertInstanceOf(Q6_KTensor.class, packed.transformer().weights().output());
            assertInstanceOf(PackedTensor.class, packed.transformer().weights().layers()[0].up());
            float[] expected = mapped.transformer().forward(mapped.newState(128), prompt, true);
            float[] got = packed.transformer().forward(packed.newState(128), prompt, true);
            assertTrue(maxAbsDiff(expected, got) < 0.06f * maxAbs(expected),
                    "prompt logits differ by " + maxAbsDiff(expected, got) / maxAbs(expected));
        }
    }

    /** Float matrices quantized on load are packed where they lie (the arena memory the quantizer wrote). */
    @ParameterizedTest(name = "{0}")
    @CsvSource({"Q4_0", "Q8_0"})
    void matricesQuantizedOnLoadArePackedInPlace(LoadOptions.Quantize quantize) {
        Path file = dir.resolve("nemotron-f32-" + quantize + ".gguf");
        new SyntheticModel(shape("nemotron"), SynthType.F32, 3).write(file, (done, total) -> { });
        int[] prompt = gemmPrompt();
        LoadOptions options = LoadOptions.quantize(quantize);
        try (Model plain = Model.load(file, options.withPack(false)); Model packed = Model.load(file, options)) {
            assertInstanceOf(PackedTensor.class, packed.transformer().weights().layers()[1].up());
            float[] expected = plain.transformer().forward(plain.newState(128), prompt, true);
            float[] got = packed.transformer().forward(packed.newState(128), prompt, true);
            float bound = quantize == LoadOptions.Quantize.Q8_0 ? 1e-4f : 0.06f; // Q4_0: 8-bit activations
            assertTrue(maxAbsDiff(expected, got) < bound * maxAbs(expected),
                    "prompt logits differ by " + maxAbsDiff(expected, got) / maxAbs(expected));
        }
    }

    /** 100 tokens: enough vectors for the integer prompt product (IntGemm) where the format has one. */
    private static int[] gemmPrompt() {
        int[] prompt = new int[100];
        for (int i = 0; i < prompt.length; i++) {
            prompt[i] = 4 + (i * 37) % 500;
        }
        return prompt;
    }

    private static float maxAbs(float[] v) {
        float m = 0f;
        for (float x : v) {
            m = Math.max(m, Math.abs(x));
        }
        return m;
    }

    private static float maxAbsDiff(float[] a, float[] b) {
        assertEquals(a.length, b.length);
        float m = 0f;
        for (int i = 0; i < a.length; i++) {
            m = Math.max(m, Math.abs(a[i] - b[i]));
        }
        return m;
    }

    private static int argmax(float[] v, int n) {
        int best = 0;
        for (int i = 1; i < n; i++) {
            if (v[i] > v[best]) {
                best = i;
            }
        }
        return best;
    }
}
