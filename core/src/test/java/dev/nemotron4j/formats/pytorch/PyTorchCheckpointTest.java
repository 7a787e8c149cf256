package dev.nemotron4j.formats.pytorch;

import dev.nemotron4j.formats.ModelFormatException;
import dev.nemotron4j.formats.TensorEntry;
import dev.nemotron4j.formats.safetensors.SafetensorsFile;
import dev.nemotron4j.tensor.GGMLType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.OutputStream;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

import static dev.nemotron4j.formats.FormatTestSupport.assertFails;
import static dev.nemotron4j.formats.FormatTestSupport.golden;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

class PyTorchCheckpointTest {
    @TempDir
    Path tmp;

    @Test
    void goldenPickleCheckpointMatchesBf16Safetensors() {
        Path dir = golden().resolve("tiny-nemotron");
        try (PyTorchCheckpoint pt = PyTorchCheckpoint.open(dir.resolve("hf-pt/pytorch_model.bin"));
             SafetensorsFile st = SafetensorsFile.open(dir.resolve("hf-bf16/model.safetensors"))) {
            assertEquals(st.tensors().keySet(), new java.util.TreeSet<>(pt.tensors().keySet()));
            for (TensorEntry t : pt.tensors().values()) {
                TensorEntry s = st.tensor(t.name());
                assertEquals(GGMLType.BF16, t.type(), t.name());
                assertArrayEquals(s.shape(), t.shape(), t.name());
                assertEquals(-1, s.data().mismatch(t.data()), t.name());
            }
            assertArrayEquals(new long[] {512, 64}, pt.tensor("model.embed_tokens.weight").shape());
        }
    }

    @Test
    void zip64ArchiveWithOtherPrefixAndOffsetTensors() throws IOException {
        float[] values = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
        ByteBuffer storage = ByteBuffer.allocate(48).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : values) {
            storage.putFloat(v);
        }
        byte[] pkl = new PickleBuilder().proto(2).global("collections", "OrderedDict").op(')').op('R').op('(')
                .str("a").tensor("FloatStorage", "0", 12, 0, new int[] {2, 3}, new int[] {3, 1})
                .str("b").tensor("FloatStorage", "0", 12, 6, new int[] {6}, new int[] {1})
                .op('u').op('}').str("_metadata").op('}').op('s').op('b').op('.').bytes();
        Path p = tmp.resolve("pytorch_model.bin");
        Files.write(p, new ZipBuilder().add("archive/data.pkl", pkl).add("archive/byteorder", "little".getBytes())
                .add("archive/data/0", storage.array()).add("archive/version", "3\n".getBytes()).build(true));
        try (PyTorchCheckpoint c = PyTorchCheckpoint.open(p)) {
            assertEquals(java.util.List.of("a", "b"), java.util.List.copyOf(c.tensors().keySet()));
            TensorEntry b = c.tensor("b");
            assertEquals(GGMLType.F32, b.type());
            assertArrayEquals(new long[] {6}, b.shape());
            assertArrayEquals(Arrays.copyOfRange(values, 6, 12), b.data().toArray(ValueLayout.JAVA_FLOAT_UNALIGNED));
            assertArrayEquals(new long[] {2, 3}, c.tensor("a").shape());
            assertEquals(0, c.tensor("a").data().address() % 64, "torch.save aligns storages to 64 bytes");
        }
    }

    @Test
    void zipWithoutDataPkl() throws IOException {
        Path p = tmp.resolve("empty.bin");
        Files.write(p, new ZipBuilder().add("archive/version", "3\n".getBytes()).build(false));
        assertFails(ModelFormatException.class, () -> PyTorchCheckpoint.open(p), p.toString(), "data.pkl");
    }

    @Test
    void compressedEntriesAreRefused() throws IOException {
        Path p = tmp.resolve("deflated.bin");
        try (OutputStream os = Files.newOutputStream(p); ZipOutputStream zip = new ZipOutputStream(os)) {
            zip.putNextEntry(new ZipEntry("archive/data.pkl"));
            zip.write(new PickleBuilder().proto(2).op('}').op('.').bytes());
            zip.closeEntry();
        }
        assertFails(ModelFormatException.class, () -> PyTorchCheckpoint.open(p), "archive/data.pkl", "compressed");
    }

    @Test
    void unsafePickleInsideCheckpoint() throws IOException {
        byte[] pkl = new PickleBuilder().proto(2).global("os", "system").str("rm -rf /").op(0x85).op('R').op('.').bytes();
        Path p = tmp.resolve("evil.bin");
        Files.write(p, new ZipBuilder().add("evil/data.pkl", pkl).build(false));
        assertFails(UnsafePickleException.class, () -> PyTorchCheckpoint.open(p), "evil.bin!evil/data.pkl", "os.system");
    }

    @Test
    void missingStorageAndNonTensorValues() throws IOException {
        byte[] pkl = new PickleBuilder().proto(2).op('}').str("w")
                .tensor("BFloat16Storage", "7", 4, 0, new int[] {4}, new int[] {1}).op('s').op('.').bytes();
        Path p = tmp.resolve("nostorage.bin");
        Files.write(p, new ZipBuilder().add("m/data.pkl", pkl).build(false));
        assertFails(ModelFormatException.class, () -> PyTorchCheckpoint.open(p), "'w'", "m/data/7");
        byte[] notDict = new PickleBuilder().proto(2).op(']').op('.').bytes();
        Files.write(p, new ZipBuilder().add("m/data.pkl", notDict).build(false));
        assertFails(ModelFormatException.class, () -> PyTorchCheckpoint.open(p), "not a state dict");
        byte[] bigEndian = new PickleBuilder().proto(2).op('}').op('.').bytes();
        Files.write(p, new ZipBuilder().add("m/data.pkl", bigEndian).add("m/byteorder", "big".getBytes()).build(false));
        assertFails(ModelFormatException.class, () -> PyTorchCheckpoint.open(p), "big-endian");
    }

    @Test
    void notAZipOrTruncated() throws IOException {
        Path p = tmp.resolve("junk.bin");
        Files.write(p, "definitely not a zip archive".getBytes());
        assertFails(ModelFormatException.class, () -> PyTorchCheckpoint.open(p), p.toString(), "not a zip archive");
        byte[] golden = Files.readAllBytes(golden().resolve("tiny-nemotron/hf-pt/pytorch_model.bin"));
        for (int cut : new int[] {100, golden.length / 2, golden.length - 10}) {
            Files.write(p, Arrays.copyOf(golden, cut));
            assertFails(ModelFormatException.class, () -> PyTorchCheckpoint.open(p), p.toString());
        }
        Path missing = tmp.resolve("missing.bin");
        assertFails(ModelFormatException.class, () -> PyTorchCheckpoint.open(missing), "not found", missing.toString());
    }
}
