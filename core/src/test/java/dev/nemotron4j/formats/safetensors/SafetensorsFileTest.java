package dev.nemotron4j.formats.safetensors;

import dev.nemotron4j.formats.ModelFile;
import dev.nemotron4j.formats.ModelFormatException;
import dev.nemotron4j.formats.TensorEntry;
import dev.nemotron4j.tensor.GGMLType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static dev.nemotron4j.formats.FormatTestSupport.assertFails;
import static dev.nemotron4j.formats.FormatTestSupport.golden;
import static dev.nemotron4j.formats.FormatTestSupport.toBf16;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

class SafetensorsFileTest {
    @TempDir
    Path tmp;

    @Test
    void readsGoldenF32AndBf16() {
        Path dir = golden().resolve("tiny-nemotron");
        try (SafetensorsFile f32 = SafetensorsFile.open(dir.resolve("hf/model.safetensors"));
             SafetensorsFile bf16 = SafetensorsFile.open(dir.resolve("hf-bf16/model.safetensors"))) {
            TensorEntry q = f32.tensor("model.layers.0.self_attn.q_proj.weight");
            assertEquals(GGMLType.F32, q.type());
            assertEquals(2, q.shape().length);
            assertEquals(q.elementCount() * 4, q.data().byteSize());
            TensorEntry qb = bf16.tensor("model.layers.0.self_attn.q_proj.weight");
            assertEquals(GGMLType.BF16, qb.type());
            assertArrayEquals(q.shape(), qb.shape());
            // hf-bf16 is hf rounded to nearest even: check that element by element.
            for (long i = 0; i < q.elementCount(); i++) {
                float v = q.data().getAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, i);
                assertEquals(toBf16(v), qb.data().getAtIndex(ValueLayout.JAVA_SHORT_UNALIGNED, i), "element " + i);
            }
            assertEquals(f32.tensors().keySet(), bf16.tensors().keySet());
            assertArrayEquals(new long[] {64}, f32.tensor("model.layers.0.input_layernorm.bias").shape());
        }
    }

    @Test
    void missingTensorIsNamed() {
        try (ModelFile f = SafetensorsFile.open(golden().resolve("tiny-mistral/hf/model.safetensors"))) {
            assertFails(ModelFormatException.class, () -> f.tensor("no.such.weight"), "no.such.weight");
        }
    }

    @Test
    void readsHandWrittenFileWithMetadataAndScalar() throws IOException {
        Path p = write("{\"__metadata__\":{\"format\":\"pt\"},\"b\":{\"dtype\":\"F16\",\"shape\":[],\"data_offsets\":[8,10]},"
                + "\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 10);
        try (SafetensorsFile f = SafetensorsFile.open(p)) {
            assertEquals(java.util.List.of("a", "b"), java.util.List.copyOf(f.tensors().keySet()), "data order");
            assertEquals(1, f.tensor("b").elementCount());
            assertEquals(GGMLType.F16, f.tensor("b").type());
        }
    }

    @Test
    void badHeaderLength() throws IOException {
        Path p = tmp.resolve("bad.safetensors");
        ByteBuffer b = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(1L << 40);
        Files.write(p, b.array());
        assertFails(ModelFormatException.class, () -> SafetensorsFile.open(p), p.toString(), "header length");
        Files.write(p, new byte[3]);
        assertFails(ModelFormatException.class, () -> SafetensorsFile.open(p), "too short");
    }

    @Test
    void badJson() throws IOException {
        Path p = write("{\"a\": {\"dtype\": ", 0);
        assertFails(ModelFormatException.class, () -> SafetensorsFile.open(p), p.toString(), "not valid JSON");
        Path dup = write("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                + "\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4);
        assertFails(ModelFormatException.class, () -> SafetensorsFile.open(dup), "Duplicate");
        Path array = write("[1, 2]", 0);
        assertFails(ModelFormatException.class, () -> SafetensorsFile.open(array), "not a JSON object");
    }

    @Test
    void offsetsOutsideFile() throws IOException {
        Path p = write("{\"w\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}", 8);
        assertFails(ModelFormatException.class, () -> SafetensorsFile.open(p), "'w'", "outside the data area");
        Path neg = write("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[-4,0]}}", 8);
        assertFails(ModelFormatException.class, () -> SafetensorsFile.open(neg), "'w'", "outside");
    }

    @Test
    void sizeMismatchAndOverlap() throws IOException {
        Path p = write("{\"w\":{\"dtype\":\"BF16\",\"shape\":[3],\"data_offsets\":[0,8]}}", 8);
        assertFails(ModelFormatException.class, () -> SafetensorsFile.open(p), "'w'", "needs 6 bytes");
        Path o = write("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                + "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 12);
        assertFails(ModelFormatException.class, () -> SafetensorsFile.open(o), "overlaps");
        Path huge = write("{\"w\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296],\"data_offsets\":[0,8]}}", 8);
        assertFails(ModelFormatException.class, () -> SafetensorsFile.open(huge), "'w'", "too large");
    }

    @Test
    void unknownAndUnsupportedDtypes() throws IOException {
        Path p = write("{\"w\":{\"dtype\":\"Q9\",\"shape\":[1],\"data_offsets\":[0,1]}}", 1);
        assertFails(ModelFormatException.class, () -> SafetensorsFile.open(p), "'w'", "unknown dtype Q9");
        Path i64 = write("{\"ids\":{\"dtype\":\"I64\",\"shape\":[1],\"data_offsets\":[0,8]}}", 8);
        assertFails(ModelFormatException.class, () -> SafetensorsFile.open(i64), "'ids'", "unsupported dtype I64");
    }

    @Test
    void nonexistentFile() {
        Path p = tmp.resolve("nope.safetensors");
        assertFails(ModelFormatException.class, () -> SafetensorsFile.open(p), "not found", p.toString());
    }

    private Path write(String header, int dataBytes) throws IOException {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8 + h.length + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(h.length).put(h);
        Path p = Files.createTempFile(tmp, "t", ".safetensors");
        Files.write(p, b.array());
        return p;
    }
}
