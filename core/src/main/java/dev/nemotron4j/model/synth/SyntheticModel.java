package dev.nemotron4j.model.synth;

import dev.nemotron4j.InvalidInputException;
import dev.nemotron4j.formats.gguf.GGUFWriter;
import dev.nemotron4j.kernels.Parallel;
import dev.nemotron4j.tensor.BF16Tensor;
import dev.nemotron4j.tensor.F16Tensor;
import dev.nemotron4j.tensor.GGMLType;
import dev.nemotron4j.tensor.Q4_0Tensor;
import dev.nemotron4j.tensor.Q4_KTensor;
import dev.nemotron4j.tensor.Q5_KTensor;
import dev.nemotron4j.tensor.Q6_KTensor;
import dev.nemotron4j.tensor.Q8_0Tensor;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.WritableByteChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.LongConsumer;

/**
 * A random-weight model of a real shape, written as a GGUF file that this engine and llama.cpp both load: the metadata
 * and tensor names llama.cpp's converter writes, a synthetic SentencePiece vocabulary of the real size, and weights
 * drawn as in the golden tiny models (golden/README.md) so activations stay finite over any depth:
 * embeddings N(0, 0.5²), matrices N(0, (g/√in)²) with g = 1.5 for Q/K, 2 for the output head and 1 otherwise, norm
 * weights 1 + N(0, 0.1²) (Nemotron's +1 already folded in, as the converter stores it) and Nemotron norm biases
 * N(0, 0.05²). Q/K rows are not permuted for arch llama: for random rows any permutation is again random.
 *
 * <p>Each row is drawn from its own generator seeded by (seed, tensor, row), so a file depends on the seed only, not
 * on the thread count. Rows are generated and quantized in parallel a chunk at a time and streamed to the file, so
 * memory stays bounded whatever the model size.
 */
public final class SyntheticModel {
    private static final int CHUNK_BYTES = 8 << 20;
    private static final ValueLayout.OfFloat LE_FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /** Called as bytes of tensor data are written; {@code total} is the sum of all tensor sizes. */
    @FunctionalInterface
    public interface Progress {
        void update(long written, long total);
    }

    /** How a tensor's values are drawn. */
    enum Init { EMBEDDING, LINEAR, NORM_WEIGHT, NORM_BIAS }

    /**
     * One tensor of the file: {@code rows × cols} (cols = ggml ne0, the row length; rows = 1 for a vector), drawn per
     * {@code init} with gain {@code gain}.
     */
    record TensorSpec(String name, GGMLType type, int rows, int cols, Init init, float gain) {
        long bytes() {
            return type.byteSize((long) rows * cols);
        }

        long[] shape() {
            return init == Init.NORM_WEIGHT || init == Init.NORM_BIAS ? new long[] {cols} : new long[] {rows, cols};
        }
    }

    private final SynthShape shape;
    private final SynthType type;
    private final long seed;
    private final List<TensorSpec> tensors;

    public SyntheticModel(SynthShape shape, SynthType type, long seed) {
        this.shape = shape;
        this.type = type;
        this.seed = seed;
        this.tensors = layout(shape, type);
    }

    public SynthShape shape() {
        return shape;
    }

    public SynthType type() {
        return type;
    }

    List<TensorSpec> tensors() {
        return tensors;
    }

    /** Bytes of tensor data (without header and alignment padding). */
    public long tensorBytes() {
        return tensors.stream().mapToLong(TensorSpec::bytes).sum();
    }

    public long parameterCount() {
        return tensors.stream().mapToLong(t -> (long) t.rows * t.cols).sum();
    }

    /** Tensors in the order llama.cpp's converter writes them; 1-D norms stay F32 as llama-quantize leaves them. */
    static List<TensorSpec> layout(SynthShape s, SynthType type) {
        List<TensorSpec> out = new ArrayList<>();
        int qDim = s.heads() * s.headDim();
        int kvDim = s.kvHeads() * s.headDim();
        out.add(matrix(type, s, -1, "token_embd.weight", s.vocabSize(), s.dim(), Init.EMBEDDING, 1f));
        for (int l = 0; l < s.layers(); l++) {
            String p = "blk." + l + ".";
            norm(out, s, p + "attn_norm");
            out.add(matrix(type, s, l, p + "attn_q.weight", qDim, s.dim(), Init.LINEAR, 1.5f));
            out.add(matrix(type, s, l, p + "attn_k.weight", kvDim, s.dim(), Init.LINEAR, 1.5f));
            out.add(matrix(type, s, l, p + "attn_v.weight", kvDim, s.dim(), Init.LINEAR, 1f));
            out.add(matrix(type, s, l, p + "attn_output.weight", s.dim(), qDim, Init.LINEAR, 1f));
            norm(out, s, p + "ffn_norm");
            if (!s.isNemotron()) {
                out.add(matrix(type, s, l, p + "ffn_gate.weight", s.hiddenDim(), s.dim(), Init.LINEAR, 1f));
            }
            out.add(matrix(type, s, l, p + "ffn_up.weight", s.hiddenDim(), s.dim(), Init.LINEAR, 1f));
            out.add(matrix(type, s, l, p + "ffn_down.weight", s.dim(), s.hiddenDim(), Init.LINEAR, 1f));
        }
        norm(out, s, "output_norm");
        out.add(matrix(type, s, -1, "output.weight", s.vocabSize(), s.dim(), Init.LINEAR, 2f));
        return out;
    }

    private static TensorSpec matrix(SynthType type, SynthShape s, int layer, String name, int rows, int cols,
                                     Init init, float gain) {
        return new TensorSpec(name, type.matrixType(name, layer, s.layers(), cols), rows, cols, init, gain);
    }

    private static void norm(List<TensorSpec> out, SynthShape s, String name) {
        out.add(new TensorSpec(name + ".weight", GGMLType.F32, 1, s.dim(), Init.NORM_WEIGHT, 1f));
        if (s.isNemotron()) {
            out.add(new TensorSpec(name + ".bias", GGMLType.F32, 1, s.dim(), Init.NORM_BIAS, 1f));
        }
    }

    /** Writes the GGUF file to {@code path}, reporting progress as tensor data is written. */
    public void write(Path path, Progress progress) {
        Path dir = path.toAbsolutePath().getParent();
        if (dir == null || !Files.isDirectory(dir) || !Files.isWritable(dir)) {
            throw new InvalidInputException("cannot write " + path + ": " + dir + " is not a writable directory");
        }
        if (Files.isDirectory(path)) {
            throw new InvalidInputException("cannot write " + path + ": it is a directory");
        }
        GGUFWriter writer = new GGUFWriter();
        putMetadata(writer);
        long total = tensorBytes();
        long[] written = {0};
        for (int i = 0; i < tensors.size(); i++) {
            TensorSpec t = tensors.get(i);
            int index = i;
            writer.addTensor(t.name, t.type, t.shape(), out -> writeTensor(t, index, out, n -> {
                written[0] += n;
                progress.update(written[0], total);
            }));
        }
        writer.write(path);
    }

    private void putMetadata(GGUFWriter w) {
        String a = shape.ggufArch();
        w.putString("general.architecture", a);
        w.putString("general.name", shape.displayName());
        w.putUInt32("general.alignment", 32);
        w.putUInt32(a + ".block_count", shape.layers());
        w.putUInt32(a + ".context_length", shape.contextLength());
        w.putUInt32(a + ".embedding_length", shape.dim());
        w.putUInt32(a + ".feed_forward_length", shape.hiddenDim());
        w.putUInt32(a + ".attention.head_count", shape.heads());
        w.putUInt32(a + ".attention.head_count_kv", shape.kvHeads());
        w.putFloat32(a + ".rope.freq_base", shape.ropeTheta());
        // The converter's base class writes the RMS key for Nemotron too; its graph reads layer_norm_epsilon.
        w.putFloat32(a + ".attention.layer_norm_rms_epsilon", shape.normEps());
        w.putUInt32(a + ".attention.key_length", shape.headDim());
        w.putUInt32(a + ".attention.value_length", shape.headDim());
        w.putUInt32("general.file_type", type.fileType);
        w.putUInt32(a + ".vocab_size", shape.vocabSize());
        w.putUInt32(a + ".rope.dimension_count", shape.ropeDims());
        if (shape.isNemotron()) {
            w.putFloat32(a + ".attention.layer_norm_epsilon", shape.normEps());
            w.putString(a + ".rope.scaling.type", "none");
        }
        SynthVocabulary vocab = SynthVocabulary.of(shape);
        w.putString("tokenizer.ggml.model", "llama");
        w.putString("tokenizer.ggml.pre", "default");
        w.putStringArray("tokenizer.ggml.tokens", vocab.tokens());
        w.putFloatArray("tokenizer.ggml.scores", vocab.scores());
        w.putIntArray("tokenizer.ggml.token_type", vocab.types());
        w.putUInt32("tokenizer.ggml.bos_token_id", shape.bosId());
        w.putUInt32("tokenizer.ggml.eos_token_id", shape.eosId());
        w.putUInt32("tokenizer.ggml.unknown_token_id", shape.unkId());
        if (shape.padId() >= 0) {
            w.putUInt32("tokenizer.ggml.padding_token_id", shape.padId());
        }
        w.putBool("tokenizer.ggml.add_bos_token", true);
        w.putBool("tokenizer.ggml.add_eos_token", false);
        w.putUInt32("general.quantization_version", 2);
    }

    private void writeTensor(TensorSpec t, int index, WritableByteChannel out, LongConsumer written)
            throws IOException {
        long rowBytes = t.type.byteSize(t.cols);
        int rowsPerChunk = (int) Math.max(1, Math.min(t.rows, CHUNK_BYTES / rowBytes));
        byte[] buffer = new byte[Math.toIntExact(rowsPerChunk * rowBytes)];
        MemorySegment chunk = MemorySegment.ofArray(buffer);
        for (int start = 0; start < t.rows; start += rowsPerChunk) {
            int first = start;
            int n = Math.min(rowsPerChunk, t.rows - start);
            Parallel.forRange(n, 1, (from, to) -> {
                float[] row = new float[t.cols];
                for (int r = from; r < to; r++) {
                    fillRow(t, index, first + r, row);
                    encode(t.type, row, chunk, r * rowBytes);
                }
            });
            ByteBuffer bytes = ByteBuffer.wrap(buffer, 0, Math.toIntExact(n * rowBytes));
            while (bytes.hasRemaining()) {
                out.write(bytes);
            }
            written.accept(n * rowBytes);
        }
    }

    /** Row {@code row} of tensor {@code index}, from a generator of its own. */
    void fillRow(TensorSpec t, int index, int row, float[] out) {
        SplittableRandom rng = new SplittableRandom(mix(mix(seed ^ 0x5DEECE66DL) + index) * 31 + row);
        double mean = switch (t.init) {
            case NORM_WEIGHT -> 1.0;
            default -> 0.0;
        };
        double std = switch (t.init) {
            case EMBEDDING -> 0.5;
            case LINEAR -> t.gain / Math.sqrt(t.cols);
            case NORM_WEIGHT -> 0.1;
            case NORM_BIAS -> 0.05;
        };
        for (int j = 0; j < t.cols; j++) {
            out[j] = (float) (mean + std * rng.nextGaussian());
        }
    }

    /** The SplitMix64 finaliser: spreads nearby seeds over the whole generator state space. */
    private static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    private static void encode(GGMLType type, float[] row, MemorySegment dst, long offset) {
        switch (type) {
            case F32 -> MemorySegment.copy(row, 0, dst, LE_FLOAT, offset, row.length);
            case F16 -> F16Tensor.quantize(row, 0, row.length, dst, offset);
            case BF16 -> BF16Tensor.quantize(row, 0, row.length, dst, offset);
            case Q8_0 -> Q8_0Tensor.quantize(row, 0, row.length, dst, offset);
            case Q4_0 -> Q4_0Tensor.quantize(row, 0, row.length, dst, offset);
            case Q4_K -> Q4_KTensor.quantize(row, 0, row.length, dst, offset);
            case Q5_K -> Q5_KTensor.quantize(row, 0, row.length, dst, offset);
            case Q6_K -> Q6_KTensor.quantize(row, 0, row.length, dst, offset);
            default -> throw new IllegalStateException("no quantizer for " + type);
        }
    }
}
