package dev.nemotron4j.bench;

import dev.nemotron4j.tokenizer.Tokenizer;
import dev.nemotron4j.tokenizer.TokenizerLoader;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Encode throughput on ~1 MB of English text. A score of s ms/op means 1/s*1000 MB/s.
 * Data: {@code -Dnemotron4j.shared=DIR} (default {@code ../shared}); text: the {@code docs/*.md} files there,
 * repeated, or generated text when absent.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = "-Xmx2g")
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 2)
public class TokenizerBenchmark {
    private static final int TEXT_CHARS = 1 << 20;

    @Param({"tokenizer/llama.cpp-vocab/ggml-vocab-llama-spm.gguf", "tokenizer/llama.cpp-vocab/ggml-vocab-gpt-2.gguf",
            "tokenizer/tekken-tiny/tokenizer.json"})
    public String vocab;

    private Tokenizer tokenizer;
    private String text;

    @Setup
    public void setup() throws IOException {
        Path shared = Path.of(System.getProperty("nemotron4j.shared", "../shared"));
        tokenizer = TokenizerLoader.load(shared.resolve(vocab));
        text = englishText(shared.resolve("docs"));
    }

    @Benchmark
    public int[] encode() {
        return tokenizer.encode(text, false, false);
    }

    private static String englishText(Path docs) throws IOException {
        StringBuilder base = new StringBuilder();
        if (Files.isDirectory(docs)) {
            try (Stream<Path> files = Files.list(docs)) {
                for (Path p : files.filter(p -> p.toString().endsWith(".md")).sorted().toList()) {
                    base.append(Files.readString(p)).append('\n');
                }
            }
        }
        if (base.isEmpty()) {
            String[] words = {"the", "model", "reads", "tokens", "and", "writes", "text,", "quickly.", "Every", "layer\n"};
            for (int i = 0; i < 10_000; i++) {
                base.append(words[(i * 7 + i / 10) % words.length]).append(' ');
            }
        }
        StringBuilder text = new StringBuilder(TEXT_CHARS + base.length());
        while (text.length() < TEXT_CHARS) {
            text.append(base);
        }
        return text.substring(0, TEXT_CHARS);
    }
}
