package dev.nemotron4j.model;

import dev.nemotron4j.model.WeightCacheStatus.State;
import dev.nemotron4j.model.synth.SynthType;
import dev.nemotron4j.model.synth.SyntheticModel;
import dev.nemotron4j.tensor.ColumnBlocks;
import dev.nemotron4j.tensor.GGMLType;
import dev.nemotron4j.tensor.PackedTensor;
import dev.nemotron4j.tensor.Q8_0Tensor;
import dev.nemotron4j.tensor.WeightTensor;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The weight cache: a first load builds it, a second maps it and computes the same logits (to float rounding: the
 * kernels' summation order differs between interpreted and compiled code, not with the bytes); a changed
 * source, other options or a damaged file make it build again, and a cache that cannot be written leaves the load as
 * it would be without one.
 */
class WeightCacheTest {
    @TempDir
    static Path models;
    private static Path q4k;
    private static Path f32;
    private static final int[] PROMPT = {5, 77, 301, 12, 9, 460, 33, 21, 140, 8, 250, 61, 7, 99, 3, 18, 402, 56, 11,
            300, 42, 17, 230, 6};

    @TempDir
    Path cacheDir;

    @BeforeAll
    static void writeModels() {
        q4k = models.resolve("nemotron-q4_k_m.gguf");
        new SyntheticModel(PackedModelTest.shape("nemotron"), SynthType.Q4_K_M, 5).write(q4k, (done, total) -> { });
        f32 = models.resolve("llama-f32.gguf");
        new SyntheticModel(PackedModelTest.shape("llama"), SynthType.F32, 6).write(f32, (done, total) -> { });
    }

    @Test
    void aSecondLoadMapsWhatTheFirstPacked() throws IOException {
        LoadOptions options = LoadOptions.DEFAULT.withWeightCache(cacheDir);
        float[][] expected = logits(q4k, LoadOptions.DEFAULT);
        Path file;
        try (Model first = Model.load(q4k, options)) {
            assertEquals(State.BUILT, first.weightCache().state(), first.weightCache().detail());
            file = first.weightCache().file();
            assertSameLogits(expected[0], prompt(first));
        }
        assertTrue(Files.isRegularFile(file), "the cache file is in place once the model is closed");
        assertEquals(List.of(file), cacheFiles(), "no temporary file is left");
        try (Model second = Model.load(q4k, options)) {
            assertEquals(State.MAPPED, second.weightCache().state(), second.weightCache().detail());
            assertInstanceOf(ColumnBlocks.class, second.transformer().weights().layers()[1].down());
            assertInstanceOf(PackedTensor.class, second.transformer().weights().output());
            assertSameLogits(expected[0], prompt(second));
            assertSameLogits(expected[1], decode(second));
        }
    }

    /**
     * An edit to any class that decides the packed bytes gives the cache files another name: the checksum reads the
     * packed form of every format that packs, down the sealed hierarchy, and the source form it is packed from.
     */
    @Test
    void theLayoutChecksumReadsEveryPackedFormatAndItsSource() {
        List<Class<?>> classes = WeightCache.layoutClasses();
        for (GGMLType type : GGMLType.values()) {
            if (!PackedTensor.packs(type)) {
                continue;
            }
            int cols = 2048;
            MemorySegment source = MemorySegment.ofArray(new byte[(int) type.byteSize(cols)]);
            assertTrue(classes.contains(WeightTensor.of(type, source, 1, cols).getClass()), type + " source");
            MemorySegment packed = MemorySegment.ofArray(new byte[(int) PackedTensor.byteSize(type, 1, cols)]);
            assertTrue(classes.contains(PackedTensor.view(type, packed, 1, cols).getClass()), type + " packed");
        }
    }

    @Test
    void aChangedSourceBuildsTheCacheAgain() throws IOException {
        Path copy = cacheDir.resolve("copy.gguf");
        Files.copy(q4k, copy);
        LoadOptions options = LoadOptions.DEFAULT.withWeightCache(cacheDir.resolve("cache"));
        loadAndClose(copy, options, State.BUILT);
        loadAndClose(copy, options, State.MAPPED);
        FileTime time = FileTime.fromMillis(Files.getLastModifiedTime(copy).toMillis() + 5000);
        Files.setLastModifiedTime(copy, time);
        loadAndClose(copy, options, State.BUILT);
        loadAndClose(copy, options, State.MAPPED);
        // Other weights of the same size, given the same modification time.
        new SyntheticModel(PackedModelTest.shape("nemotron"), SynthType.Q4_K_M, 99).write(copy, (done, total) -> { });
        assertEquals(Files.size(q4k), Files.size(copy));
        Files.setLastModifiedTime(copy, time);
        loadAndClose(copy, options, State.BUILT);
        loadAndClose(copy, options, State.MAPPED);
    }

    @Test
    void aDamagedCacheFileIsBuiltAgain() throws IOException {
        LoadOptions options = LoadOptions.DEFAULT.withWeightCache(cacheDir);
        float[][] expected = logits(q4k, LoadOptions.DEFAULT);
        Path file = loadAndClose(q4k, options, State.BUILT);
        long size = Files.size(file);
        // The trailer's magic, the index's JSON, an entry pointing past the data, then a file cut short.
        damage(file, size - 1, (byte) 0);
        loadAndClose(q4k, options, State.BUILT);
        String index = Files.readString(file, java.nio.charset.StandardCharsets.ISO_8859_1);
        damage(file, index.lastIndexOf("\"tensors\""), (byte) '!');
        loadAndClose(q4k, options, State.BUILT);
        index = Files.readString(file, java.nio.charset.StandardCharsets.ISO_8859_1);
        int offset = index.lastIndexOf("\"offset\":") + "\"offset\":".length();
        damage(file, offset, (byte) '9');
        damage(file, offset + 1, (byte) '9');
        loadAndClose(q4k, options, State.BUILT);
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
            f.setLength(size / 2);
        }
        loadAndClose(q4k, options, State.BUILT);
        try (Model m = Model.load(q4k, options)) {
            assertEquals(State.MAPPED, m.weightCache().state());
            assertSameLogits(expected[0], prompt(m));
        }
    }

    @Test
    void matricesQuantizedOnLoadAreCachedPerOption() throws IOException {
        LoadOptions q8 = LoadOptions.quantize(LoadOptions.Quantize.Q8_0).withWeightCache(cacheDir);
        LoadOptions q8Unpacked = q8.withPack(false);
        float[][] expected = logits(f32, q8.withWeightCache(null));
        loadAndClose(f32, q8, State.BUILT);
        loadAndClose(f32, q8Unpacked, State.BUILT);
        assertEquals(2, cacheFiles().size(), "one file per options");
        try (Model packed = Model.load(f32, q8); Model unpacked = Model.load(f32, q8Unpacked)) {
            assertEquals(State.MAPPED, packed.weightCache().state());
            assertEquals(State.MAPPED, unpacked.weightCache().state());
            assertInstanceOf(Q8_0Tensor.class, unpacked.transformer().weights().layers()[0].up());
            assertInstanceOf(PackedTensor.class, packed.transformer().weights().layers()[0].up());
            assertSameLogits(expected[0], prompt(packed));
            assertSameLogits(expected[1], decode(packed));
        }
    }

    @Test
    void nothingMadeOnLoadLeavesNoFile() throws IOException {
        try (Model m = Model.load(f32, LoadOptions.DEFAULT.withWeightCache(cacheDir))) {
            assertEquals(State.OFF, m.weightCache().state(), m.weightCache().detail());
            assertNull(m.weightCache().file());
        }
        assertEquals(List.of(), cacheFiles());
    }

    @Test
    void aCacheThatCannotBeWrittenLeavesTheLoadAsWithout() throws IOException {
        Path notADirectory = Files.writeString(cacheDir.resolve("plain-file"), "x");
        float[][] expected = logits(q4k, LoadOptions.DEFAULT);
        try (Model m = Model.load(q4k, LoadOptions.DEFAULT.withWeightCache(notADirectory))) {
            assertEquals(State.UNAVAILABLE, m.weightCache().state());
            assertTrue(m.weightCache().detail().startsWith("weight cache not used: " + notADirectory),
                    m.weightCache().detail());
            assertFalse(m.weightCache().detail().contains("Exception"), m.weightCache().detail());
            assertInstanceOf(PackedTensor.class, m.transformer().weights().layers()[0].up());
            assertSameLogits(expected[0], prompt(m));
        }
    }

    @Test
    void aTemporaryFileOfADeadBuildIsRemoved() throws IOException {
        Path file = loadAndClose(q4k, LoadOptions.DEFAULT.withWeightCache(cacheDir), State.BUILT);
        Files.delete(file);
        Path stale = file.resolveSibling(file.getFileName() + ".tmp-" + Long.MAX_VALUE / 2);
        Files.writeString(stale, "left by a killed process");
        loadAndClose(q4k, LoadOptions.DEFAULT.withWeightCache(cacheDir), State.BUILT);
        assertFalse(Files.exists(stale));
        assertEquals(List.of(file), cacheFiles());
    }

    @Test
    void aBuildRemovesTheFilesOfModelsThatAreGoneOrChanged() throws IOException {
        Path a = cacheDir.resolve("a.gguf");
        Path b = cacheDir.resolve("b.gguf");
        Path c = cacheDir.resolve("c.gguf");
        for (Path model : List.of(a, b, c)) {
            Files.copy(q4k, model);
        }
        LoadOptions options = LoadOptions.DEFAULT.withWeightCache(cacheDir);
        Path cacheOfA = loadAndClose(a, options, State.BUILT);
        Path cacheOfB = loadAndClose(b, options, State.BUILT);
        Path foreign = cacheDir.resolve("notes.weights");
        Files.writeString(foreign, "not a cache file");
        Files.delete(a);
        Files.setLastModifiedTime(b, FileTime.fromMillis(Files.getLastModifiedTime(b).toMillis() + 5000));
        Model m = Model.load(c, options);
        m.close(); // waits for the cache file to be written
        assertEquals(State.BUILT, m.weightCache().state());
        assertTrue(m.weightCache().detail().contains("whose models are gone or changed"), m.weightCache().detail());
        assertFalse(Files.exists(cacheOfA));
        assertFalse(Files.exists(cacheOfB));
        assertTrue(Files.exists(foreign));
        loadAndClose(c, options, State.MAPPED);
    }

    @Test
    void aBuildKeepsTheFilesOfModelsStillInPlace() throws IOException {
        Path a = cacheDir.resolve("a.gguf");
        Files.copy(q4k, a);
        LoadOptions options = LoadOptions.DEFAULT.withWeightCache(cacheDir);
        Path cacheOfA = loadAndClose(a, options, State.BUILT);
        loadAndClose(q4k, options, State.BUILT);
        assertTrue(Files.exists(cacheOfA));
        loadAndClose(a, options, State.MAPPED);
    }

    private static void assertSameLogits(float[] expected, float[] got) {
        assertEquals(expected.length, got.length);
        float scale = 0f;
        float diff = 0f;
        for (int i = 0; i < expected.length; i++) {
            scale = Math.max(scale, Math.abs(expected[i]));
            diff = Math.max(diff, Math.abs(expected[i] - got[i]));
        }
        assertTrue(diff <= 1e-5f * scale, "logits differ by " + diff + " (largest " + scale + ")");
    }

    private static Path loadAndClose(Path model, LoadOptions options, State expected) {
        try (Model m = Model.load(model, options)) {
            assertEquals(expected, m.weightCache().state(), m.weightCache().detail());
            return m.weightCache().file();
        }
    }

    private static void damage(Path file, long position, byte value) throws IOException {
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
            f.seek(position);
            f.write(value);
        }
    }

    private List<Path> cacheFiles() throws IOException {
        try (Stream<Path> files = Files.list(cacheDir)) {
            return files.filter(p -> !p.getFileName().toString().endsWith(".gguf")).sorted().toList();
        }
    }

    private static float[][] logits(Path model, LoadOptions options) {
        try (Model m = Model.load(model, options)) {
            return new float[][] {prompt(m), decode(m)};
        }
    }

    /** The prompt path (many vectors, float products) and the decode path (one vector, 8-bit activations). */
    private static float[] prompt(Model m) {
        return m.transformer().forward(m.newState(32), PROMPT, true);
    }

    private static float[] decode(Model m) {
        InferenceState s = m.newState(32);
        float[] last = null;
        for (int token : PROMPT) {
            last = m.transformer().forward(s, new int[] {token}, false);
        }
        return last;
    }
}
