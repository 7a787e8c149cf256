package dev.nemotron4j.formats.gguf;

import dev.nemotron4j.formats.ModelFormatException;
import dev.nemotron4j.tensor.GGMLType;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

import static dev.nemotron4j.formats.FormatTestSupport.assertFails;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** Corrupts a small valid GGUF at known places; every corruption must be a ModelFormatException naming the problem. */
class GGUFFileBadInputTest {
    @TempDir
    Path tmp;

    private byte[] valid;
    private long dataOffset;
    private int arrayCountAt;
    private int tensorInfoAt;

    @BeforeEach
    void writeValidFile() throws IOException {
        Path p = tmp.resolve("valid.gguf");
        new GGUFWriter().putString("general.architecture", "nemotron")
                .putStringArray("tokenizer.ggml.tokens", new String[] {"a", "b"})
                .addTensor("token_embd.weight", GGMLType.F32, new long[] {2, 4}, new byte[32])
                .addTensor("output_norm.weight", GGMLType.F32, new long[] {4}, new byte[16]).write(p);
        valid = Files.readAllBytes(p);
        try (GGUFFile g = GGUFFile.open(p)) {
            dataOffset = g.dataOffset();
        }
        // Array entry: key, value type ARRAY (4), element type (4), then the u64 count; a tensor info starts with its
        // name's u64 length.
        arrayCountAt = indexOf("tokenizer.ggml.tokens") + "tokenizer.ggml.tokens".length() + 4 + 4;
        tensorInfoAt = indexOf("token_embd.weight") - 8;
    }

    @Test
    void validFileOpens() throws IOException {
        try (GGUFFile g = GGUFFile.open(write(valid))) {
            assertEquals(2, g.tensors().size());
        }
    }

    @Test
    void truncatedAtSeveralPoints() throws IOException {
        for (int cut : new int[] {0, 3, 6, 20, 30, arrayCountAt + 4, tensorInfoAt + 12}) {
            Path p = write(Arrays.copyOf(valid, cut));
            assertFails(ModelFormatException.class, () -> GGUFFile.open(p), p.toString(), "truncated");
        }
        Path data = write(Arrays.copyOf(valid, (int) dataOffset + 40));
        assertFails(ModelFormatException.class, () -> GGUFFile.open(data), data.toString(), "'output_norm.weight'",
                "outside the file");
    }

    @Test
    void badMagic() throws IOException {
        byte[] b = valid.clone();
        b[0] = 'X';
        Path p = write(b);
        assertFails(ModelFormatException.class, () -> GGUFFile.open(p), p.toString(), "not a GGUF file", "bad magic");
    }

    @Test
    void unsupportedVersions() throws IOException {
        for (int version : new int[] {1, 99}) {
            Path p = write(patch32(valid.clone(), 4, version));
            assertFails(ModelFormatException.class, () -> GGUFFile.open(p), "GGUF version " + version, "not supported");
        }
    }

    @Test
    void unknownGgmlTypeId() throws IOException {
        // tensor info: name (8 + 17), n_dims (4), 2 dims (16), type
        int typeAt = tensorInfoAt + 8 + "token_embd.weight".length() + 4 + 16;
        Path p = write(patch32(valid.clone(), typeAt, 99));
        assertFails(ModelFormatException.class, () -> GGUFFile.open(p), "'token_embd.weight'", "unknown ggml type id 99");
    }

    @Test
    void tensorOffsetOutsideFile() throws IOException {
        int offsetAt = tensorInfoAt + 8 + "token_embd.weight".length() + 4 + 16 + 4;
        Path p = write(patch64(valid.clone(), offsetAt, 1L << 20));
        assertFails(ModelFormatException.class, () -> GGUFFile.open(p), "'token_embd.weight'", "outside the file");
        Path misaligned = write(patch64(valid.clone(), offsetAt, 4));
        assertFails(ModelFormatException.class, () -> GGUFFile.open(misaligned), "'token_embd.weight'");
    }

    @Test
    void hugeStringLengthAndArrayCount() throws IOException {
        Path key = write(patch64(valid.clone(), 24, 1L << 62));
        assertFails(ModelFormatException.class, () -> GGUFFile.open(key), "string of length " + (1L << 62));
        Path negative = write(patch64(valid.clone(), 24, -1L));
        assertFails(ModelFormatException.class, () -> GGUFFile.open(negative), "string of length 18446744073709551615");
        Path array = write(patch64(valid.clone(), arrayCountAt, 1L << 40));
        assertFails(ModelFormatException.class, () -> GGUFFile.open(array), "tokenizer.ggml.tokens", "claims");
        Path tensors = write(patch64(valid.clone(), 8, 1L << 33));
        assertFails(ModelFormatException.class, () -> GGUFFile.open(tensors), "implausible tensor count");
        Path kvs = write(patch64(valid.clone(), 16, -2L));
        assertFails(ModelFormatException.class, () -> GGUFFile.open(kvs), "implausible metadata count");
    }

    @Test
    void unknownMetadataValueTypeAndBadAlignment() throws IOException {
        int typeAt = 24 + 8 + "general.architecture".length();
        Path p = write(patch32(valid.clone(), typeAt, 42));
        assertFails(ModelFormatException.class, () -> GGUFFile.open(p), "general.architecture", "unknown value type 42");
        Path align = write(headerWithAlignment(48));
        assertFails(ModelFormatException.class, () -> GGUFFile.open(align), "general.alignment 48", "power of two");
    }

    @Test
    void nonexistentFile() {
        Path p = tmp.resolve("missing.gguf");
        assertFails(ModelFormatException.class, () -> GGUFFile.open(p), "not found", p.toString());
    }

    /** A header-only GGUF with one UINT32 general.alignment entry, written by hand since the writer refuses bad ones. */
    private static byte[] headerWithAlignment(int alignment) {
        byte[] key = "general.alignment".getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(24 + 8 + key.length + 4 + 4).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(0x46554747).putInt(3).putLong(0).putLong(1).putLong(key.length).put(key).putInt(4).putInt(alignment);
        return b.array();
    }

    private int indexOf(String s) {
        byte[] needle = s.getBytes(StandardCharsets.UTF_8);
        for (int i = 0; i + needle.length <= valid.length; i++) {
            if (Arrays.equals(valid, i, i + needle.length, needle, 0, needle.length)) {
                return i;
            }
        }
        throw new AssertionError(s + " not in file");
    }

    private Path write(byte[] bytes) throws IOException {
        Path p = Files.createTempFile(tmp, "bad", ".gguf");
        Files.write(p, bytes);
        return p;
    }

    private static byte[] patch32(byte[] b, int at, int v) {
        ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putInt(at, v);
        return b;
    }

    private static byte[] patch64(byte[] b, int at, long v) {
        ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putLong(at, v);
        return b;
    }
}
