package dev.nemotron4j.formats.gguf;

import dev.nemotron4j.formats.ModelFormatException;
import dev.nemotron4j.formats.TensorEntry;
import dev.nemotron4j.tensor.GGMLType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;

import static dev.nemotron4j.formats.FormatTestSupport.assertFails;
import static dev.nemotron4j.formats.FormatTestSupport.golden;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class GGUFWriterTest {
    @TempDir
    Path tmp;

    @Test
    void roundTripsEveryValueTypeAndTensorSource() throws IOException {
        Random rnd = new Random(7);
        byte[] f32 = bytes(rnd, 3 * 8 * 4);
        byte[] bf16 = bytes(rnd, 16 * 2);
        byte[] q40 = bytes(rnd, 2 * 2 * 18);
        byte[] streamed = bytes(rnd, 4 << 20);
        GGUFWriter w = new GGUFWriter()
                .putString("general.architecture", "nemotron")
                .put("u8", GGUFValueType.UINT8, 255).put("i8", GGUFValueType.INT8, -128)
                .put("u16", GGUFValueType.UINT16, 65535).put("i16", GGUFValueType.INT16, -32768)
                .putUInt32("u32", 0xFFFFFFFFL).putInt32("i32", -7).putUInt64("u64", -1L)
                .put("i64", GGUFValueType.INT64, Long.MIN_VALUE).putFloat32("f32", 1e-5f)
                .put("f64", GGUFValueType.FLOAT64, Math.PI).putBool("yes", true).putBool("no", false)
                .putString("unicode", "ünïcödé ▁")
                .putStringArray("tokens", new String[] {"<unk>", "▁the", ""})
                .putFloatArray("scores", new float[] {0f, -1.5f, Float.NaN})
                .putIntArray("types", new int[] {2, 1, 3})
                .putArray("bytes", new GGUFArray(GGUFValueType.UINT8, new int[] {0, 200}))
                .putArray("longs", new GGUFArray(GGUFValueType.UINT64, new long[] {1L << 40}))
                .putArray("doubles", new GGUFArray(GGUFValueType.FLOAT64, new double[] {0.25}))
                .putArray("bools", new GGUFArray(GGUFValueType.BOOL, new boolean[] {true, false}))
                .putArray("nested", new GGUFArray(GGUFValueType.ARRAY, new GGUFArray[] {
                        new GGUFArray(GGUFValueType.INT16, new int[] {-1}),
                        new GGUFArray(GGUFValueType.STRING, new String[] {"x"})}))
                .addTensor("f32", GGMLType.F32, new long[] {3, 8}, f32)
                .addTensor("bf16", GGMLType.BF16, new long[] {16}, MemorySegment.ofArray(bf16))
                .addTensor("q4_0", GGMLType.Q4_0, new long[] {2, 64}, q40)
                .addTensor("streamed", GGMLType.F16, new long[] {1024, 2048}, out -> {
                    for (int off = 0; off < streamed.length; off += 100_000) {
                        out.write(ByteBuffer.wrap(streamed, off, Math.min(100_000, streamed.length - off)));
                    }
                });
        Path p = tmp.resolve("all.gguf");
        w.write(p);
        try (GGUFFile g = GGUFFile.open(p)) {
            assertEquals(3, g.version());
            assertEquals(32, g.alignment());
            assertEquals(0, Files.size(p) % 32);
            assertEquals("nemotron", g.getString("general.architecture"));
            assertEquals(255, g.metadata().get("u8"));
            assertEquals(-128, g.metadata().get("i8"));
            assertEquals(65535, g.metadata().get("u16"));
            assertEquals(-32768, g.metadata().get("i16"));
            assertEquals(0xFFFFFFFFL, g.metadata().get("u32"));
            assertEquals(-7, g.metadata().get("i32"));
            assertEquals(-1L, g.metadata().get("u64"));
            assertEquals(Long.MIN_VALUE, g.metadata().get("i64"));
            assertEquals(1e-5f, g.metadata().get("f32"));
            assertEquals(Math.PI, g.metadata().get("f64"));
            assertEquals(true, g.metadata().get("yes"));
            assertEquals(false, g.metadata().get("no"));
            assertEquals("ünïcödé ▁", g.getString("unicode"));
            assertArrayEquals(new String[] {"<unk>", "▁the", ""}, g.getStringArray("tokens"));
            assertArrayEquals(new float[] {0f, -1.5f, Float.NaN}, g.getFloatArray("scores"));
            assertArrayEquals(new int[] {2, 1, 3}, g.getIntArray("types"));
            assertEquals(GGUFValueType.INT32, g.getArray("types").elementType());
            assertArrayEquals(new int[] {0, 200}, (int[]) g.getArray("bytes").values());
            assertEquals(GGUFValueType.UINT8, g.getArray("bytes").elementType());
            assertArrayEquals(new long[] {1L << 40}, (long[]) g.getArray("longs").values());
            assertArrayEquals(new double[] {0.25}, (double[]) g.getArray("doubles").values());
            assertArrayEquals(new boolean[] {true, false}, (boolean[]) g.getArray("bools").values());
            GGUFArray[] nested = (GGUFArray[]) g.getArray("nested").values();
            assertArrayEquals(new int[] {-1}, (int[]) nested[0].values());
            assertArrayEquals(new String[] {"x"}, (String[]) nested[1].values());
            for (String key : g.metadata().keySet()) {
                assertTrue(g.metadataType(key) != null, key);
            }
            assertEquals(List.of("f32", "bf16", "q4_0", "streamed"), List.copyOf(g.tensors().keySet()));
            check(g.tensor("f32"), GGMLType.F32, new long[] {3, 8}, f32);
            check(g.tensor("bf16"), GGMLType.BF16, new long[] {16}, bf16);
            check(g.tensor("q4_0"), GGMLType.Q4_0, new long[] {2, 64}, q40);
            check(g.tensor("streamed"), GGMLType.F16, new long[] {1024, 2048}, streamed);
            long base = g.tensor("f32").data().address() - g.dataOffset(); // the first tensor sits at offset 0
            for (TensorEntry t : g.tensors().values()) {
                assertEquals(0, (t.data().address() - base) % 32, t.name());
            }
        }
    }

    @Test
    void customAlignment() throws IOException {
        Path p = tmp.resolve("a64.gguf");
        new GGUFWriter().putUInt32("general.alignment", 64)
                .addTensor("a", GGMLType.F32, new long[] {3}, new byte[12])
                .addTensor("b", GGMLType.F32, new long[] {5}, new byte[20]).write(p);
        try (GGUFFile g = GGUFFile.open(p)) {
            assertEquals(64, g.alignment());
            assertEquals(0, g.dataOffset() % 64);
            assertEquals(64, g.tensor("b").data().address() - g.tensor("a").data().address());
            assertEquals(0, Files.size(p) % 64);
        }
    }

    @Test
    void rewritesGoldenFilesByteForByte() throws IOException {
        List<Path> files = new ArrayList<>();
        try (Stream<Path> all = Files.walk(golden())) {
            all.filter(f -> f.toString().endsWith(".gguf") && f.getParent().getFileName().toString().equals("gguf"))
                    .sorted().forEach(files::add);
        }
        assertTrue(files.size() >= 12, "golden GGUF files: " + files);
        for (Path original : files) {
            Path copy = tmp.resolve(original.getFileName());
            try (GGUFFile g = GGUFFile.open(original)) {
                GGUFWriter w = new GGUFWriter().putAll(g);
                g.tensors().values().forEach(w::addTensor);
                w.write(copy);
            }
            assertEquals(-1, Files.mismatch(original, copy), original.toString());
            Files.delete(copy);
        }
    }

    @Test
    void refusesInvalidInput() {
        GGUFWriter w = new GGUFWriter();
        assertFails(ModelFormatException.class, () -> w.put("k", GGUFValueType.UINT8, 256), "k", "UINT8");
        assertFails(ModelFormatException.class, () -> w.put("k", GGUFValueType.UINT32, -1L), "UINT32");
        assertFails(ModelFormatException.class, () -> w.put("k", GGUFValueType.STRING, 5), "STRING");
        assertFails(ModelFormatException.class, () -> w.putArray("k", new GGUFArray(GGUFValueType.INT8, new int[] {1, 999})),
                "k[1]");
        assertFails(ModelFormatException.class, () -> w.putUInt32("general.alignment", 48), "power of two");
        assertFails(ModelFormatException.class,
                () -> w.addTensor("x".repeat(64), GGMLType.F32, new long[] {1}, new byte[4]), "1 to 63 bytes");
        assertFails(ModelFormatException.class,
                () -> w.addTensor("q", GGMLType.Q8_0, new long[] {2, 48}, new byte[2 * 34]), "block size 32");
        assertFails(ModelFormatException.class,
                () -> w.addTensor("f", GGMLType.F32, new long[] {4}, new byte[15]), "'f'", "needs 16 bytes");
        w.addTensor("f", GGMLType.F32, new long[] {4}, new byte[16]);
        assertFails(ModelFormatException.class,
                () -> w.addTensor("f", GGMLType.F32, new long[] {4}, new byte[16]), "'f'", "twice");
        assertFails(ModelFormatException.class,
                () -> w.addTensor("r", GGMLType.F32, new long[] {1, 1, 1, 1, 1}, new byte[4]), "5 dimensions");
    }

    @Test
    void shortSourceFailsAndLeavesNoFile() {
        Path p = tmp.resolve("short.gguf");
        GGUFWriter w = new GGUFWriter().addTensor("t", GGMLType.F32, new long[] {8}, out -> out.write(ByteBuffer.allocate(16)));
        assertFails(ModelFormatException.class, () -> w.write(p), "'t'", "wrote 16 bytes, expected 32");
        assertFalse(Files.exists(p));
    }

    private static void check(TensorEntry t, GGMLType type, long[] shape, byte[] data) {
        assertEquals(type, t.type(), t.name());
        assertArrayEquals(shape, t.shape(), t.name());
        assertEquals(-1, t.data().mismatch(MemorySegment.ofArray(data)), t.name());
    }

    private static byte[] bytes(Random rnd, int n) {
        byte[] b = new byte[n];
        rnd.nextBytes(b);
        return b;
    }
}
