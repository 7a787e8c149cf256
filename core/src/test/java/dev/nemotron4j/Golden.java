package dev.nemotron4j;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

/** Access to the shared golden test data (tiny models, reference logits) that lives beside the checkout. */
public final class Golden {
    private Golden() {
    }

    public static Path shared() {
        String p = System.getProperty("nemotron4j.shared");
        Path path = p != null ? Path.of(p) : Path.of("../../shared");
        if (!Files.isDirectory(path)) {
            throw new IllegalStateException("shared test data not found at " + path.toAbsolutePath());
        }
        return path;
    }

    public static Path golden(String model) {
        return shared().resolve("golden").resolve(model);
    }

    public static Path gguf(String model, String type) {
        return golden(model).resolve("gguf").resolve(model + "-" + type + ".gguf");
    }

    public static Path reference(String model, String file) {
        return golden(model).resolve("reference").resolve(file);
    }

    public static int[] tokens(String model, String seq) {
        return ids(read(reference(model, "tokens-seq" + seq + ".txt")));
    }

    public static int[] ids(String text) {
        String t = text.strip();
        return t.isEmpty() ? new int[0] : Arrays.stream(t.split("\\s+")).mapToInt(Integer::parseInt).toArray();
    }

    public static String read(Path path) {
        try {
            return Files.readString(path);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A raw little-endian float32 file. */
    public static float[] floats(Path path) {
        try {
            ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(path)).order(ByteOrder.LITTLE_ENDIAN);
            float[] out = new float[b.remaining() / 4];
            b.asFloatBuffer().get(out);
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static float maxAbsDiff(float[] a, float[] b, int n) {
        float max = 0;
        for (int i = 0; i < n; i++) {
            max = Math.max(max, Math.abs(a[i] - b[i]));
        }
        return max;
    }

    public static int argmax(float[] a, int offset, int n) {
        int best = 0;
        for (int i = 1; i < n; i++) {
            if (a[offset + i] > a[offset + best]) {
                best = i;
            }
        }
        return best;
    }
}
