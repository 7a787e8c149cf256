package dev.nemotron4j.cli;

import dev.nemotron4j.model.InferenceState;
import dev.nemotron4j.model.Model;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;

@Command(name = "logits", mixinStandardHelpOptions = true,
        description = "Run token ids through the model and write the logits of every position as raw little-endian "
                + "float32, row-major [n_tokens][vocab].")
final class LogitsCommand implements Callable<Integer> {

    @Option(names = "--model", required = true,
            description = "GGUF file, HF model directory, a weights file in one, or a Hugging Face name owner/name")
    String model;

    @Option(names = "--tokens", required = true, converter = TokenIds.Converter.class,
            description = "token ids, e.g. 1,5,9,100")
    TokenIds tokenIds;

    @Option(names = "--out", required = true, description = "output file")
    Path out;

    @Option(names = "--incremental", description = "evaluate one token at a time through the KV cache "
            + "instead of the whole prompt in one pass")
    boolean incremental;

    @Override
    public Integer call() {
        int[] tokens = tokenIds.ids();
        try (Model m = Model.load(ModelOptions.resolve(model))) {
            InferenceState state = m.newState(Math.min(tokens.length, m.config().contextLength()));
            m.transformer().validate(state, tokens);
            write(m, state, tokens);
        }
        return 0;
    }

    private void write(Model m, InferenceState state, int[] tokens) {
        try (OutputStream os = new BufferedOutputStream(Files.newOutputStream(out), 1 << 20)) {
            int vocab = m.config().vocabSize();
            ByteBuffer row = ByteBuffer.allocate(vocab * 4).order(ByteOrder.LITTLE_ENDIAN);
            if (incremental) {
                for (int token : tokens) {
                    writeRows(os, row, m.transformer().forward(state, new int[] {token}, false), 1, vocab);
                }
            } else {
                writeRows(os, row, m.transformer().forward(state, tokens, true), tokens.length, vocab);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + out + ": " + e.getMessage(), e);
        }
    }

    private static void writeRows(OutputStream os, ByteBuffer row, float[] logits, int rows, int vocab)
            throws IOException {
        for (int r = 0; r < rows; r++) {
            row.clear();
            row.asFloatBuffer().put(logits, r * vocab, vocab);
            os.write(row.array(), 0, vocab * 4);
        }
    }
}
