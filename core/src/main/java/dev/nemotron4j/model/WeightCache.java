package dev.nemotron4j.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.nemotron4j.formats.ModelFile;
import dev.nemotron4j.formats.TensorEntry;
import dev.nemotron4j.model.WeightCacheStatus.State;
import dev.nemotron4j.tensor.ColumnBlocks;
import dev.nemotron4j.tensor.GGMLType;
import dev.nemotron4j.tensor.PackedTensor;
import dev.nemotron4j.tensor.Q4_0Tensor;
import dev.nemotron4j.tensor.Q4_1Tensor;
import dev.nemotron4j.tensor.Q4_KTensor;
import dev.nemotron4j.tensor.Q5_KTensor;
import dev.nemotron4j.tensor.Q6_KTensor;
import dev.nemotron4j.tensor.Q8_0Tensor;
import dev.nemotron4j.tensor.WeightTensor;

import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import java.util.zip.CRC32;
import java.util.zip.CRC32C;

/**
 * The matrices a load transforms (quantized on load, or repacked for the decode kernels), kept in one file per model
 * and load options so that the next load maps them instead of making them again: on a warm page cache that is a
 * mapping, not gigabytes of fresh memory written. A load that builds the file makes its matrices in memory as it would
 * without a cache and writes them on a thread of its own afterwards ({@link #close()} waits for it); the file is
 * synced, then renamed into place, so it is only ever found whole.
 *
 * <p>File: matrix data at 4 KiB-aligned offsets, then a JSON index (what the file was made from, and each matrix's
 * name, type, shape and place), then 16 bytes: the index offset and {@link #MAGIC}. The index names the model's path,
 * its source files by size, modification time and a checksum of slices of them, the vector width, the load options
 * and a checksum of the bytecode of the classes that define the layouts; a file that differs in any of them is built
 * again. Writing a file removes the folder's files whose model is gone or has changed, which no load could map.
 */
final class WeightCache implements AutoCloseable {
    private static final long MAGIC = 0x5844_4957_4a34_4e4eL; // "NN4JWIDX" read little-endian
    private static final int TRAILER_BYTES = 16;
    private static final long ALIGN = 4096;
    private static final long MAX_INDEX_BYTES = 64L << 20;
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Arena arena;
    private final Path file;
    private final ObjectNode identity;
    private volatile WeightCacheStatus status;
    /** Mapped mode: the index, by matrix name, over the whole file mapped read-only. */
    private final Map<String, JsonNode> entries = new HashMap<>();
    private MemorySegment mapped;
    /** Build mode: the matrices this load made, by name, for {@link #finish()} to write. */
    private boolean building;
    private final Map<String, WeightTensor> made = new LinkedHashMap<>();
    private Thread writer;

    private WeightCache(Arena arena, Path file, ObjectNode identity, WeightCacheStatus status) {
        this.arena = arena;
        this.file = file;
        this.identity = identity;
        this.status = status;
    }

    /**
     * A cache for the model at {@code modelPath} (whose tensors {@code file} holds) in {@code options.weightCache()}:
     * mapped, building, or off when none is asked for, nothing would be made on load, or it cannot be written.
     */
    static WeightCache open(Path modelPath, ModelFile file, LoadOptions options, Arena arena) {
        if (options.weightCache() == null) {
            return off(arena, State.OFF, "weight cache off");
        }
        Path dir = options.weightCache().toAbsolutePath(); // "" or "cache" name a folder under the working directory
        long bytes = bytesMadeOnLoad(file, options);
        if (bytes == 0) {
            return off(arena, State.OFF, "weight cache not needed: nothing is quantized or packed on load");
        }
        try {
            Path real = modelPath.toRealPath();
            WeightCache cache = new WeightCache(arena, dir.resolve(fileName(real, options)),
                    identity(real, sources(modelPath), options), null);
            if (Files.isRegularFile(cache.file) && cache.map()) {
                return cache;
            }
            Files.createDirectories(dir);
            long usable = Files.getFileStore(dir).getUsableSpace();
            long needed = bytes + (1L << 30); // and room to spare for the user's other files
            if (usable < needed) {
                return off(arena, State.UNAVAILABLE, String.format(
                        "weight cache not written: %s has %.1f GB free, %.1f GB are needed", dir, usable / 1e9,
                        needed / 1e9));
            }
            cache.building = true;
            cache.status = new WeightCacheStatus(State.BUILT, cache.file, "building " + cache.file);
            return cache;
        } catch (IOException | RuntimeException e) {
            return off(arena, State.UNAVAILABLE, "weight cache not used: " + reason(e));
        }
    }

    /** A bound on what the quantizer and packer would make: every matrix they take, at its packed size or more. */
    private static long bytesMadeOnLoad(ModelFile file, LoadOptions options) {
        long bytes = 0;
        for (TensorEntry t : file.tensors().values()) {
            GGMLType type = t.type();
            boolean isFloat = type == GGMLType.F32 || type == GGMLType.F16 || type == GGMLType.BF16;
            if (options.quantize() != LoadOptions.Quantize.NONE && isFloat) {
                bytes += t.elementCount(); // Q8_0 and Q4_0 take less than a byte per value
            } else if (options.pack() && PackedTensor.packs(type)) {
                bytes += t.data().byteSize() + t.data().byteSize() / 7; // Q5_K's 25 bytes per 22
            }
        }
        return bytes;
    }

    private static WeightCache off(Arena arena, State state, String detail) {
        return new WeightCache(arena, null, null, new WeightCacheStatus(state, null, detail));
    }

    WeightCacheStatus status() {
        return status;
    }

    /** The cached matrix {@code name} of the given shape, or null when it is not cached. */
    WeightTensor find(String name, int rows, int cols) {
        JsonNode e = entries.get(name);
        if (e == null || e.path("rows").asInt() != rows || e.path("cols").asInt() != cols) {
            return null;
        }
        GGMLType type = GGMLType.valueOf(e.path("type").asText());
        MemorySegment data = mapped.asSlice(e.path("offset").asLong(), e.path("bytes").asLong());
        return e.path("packed").asBoolean() ? ColumnBlocks.viewPacked(type, data, rows, cols)
                : WeightTensor.of(type, data, rows, cols);
    }

    /** Remembers matrix {@code name}, made by this load, for the file being built. */
    void keep(String name, WeightTensor tensor) {
        if (building) {
            made.put(name, tensor);
        }
    }

    /** Ends a build: the matrices kept are written, synced and renamed into place on a thread of its own. */
    void finish() {
        if (!building) {
            return;
        }
        building = false;
        if (made.isEmpty()) {
            status = new WeightCacheStatus(State.OFF, null, "weight cache not needed: nothing was packed on load");
            return;
        }
        status = new WeightCacheStatus(State.BUILT, file, "saving the packed weights to " + file
                + " for later loads to map");
        writer = Thread.ofPlatform().name("weight-cache-writer").start(this::write);
    }

    /** Waits for the file of a build to be written (the matrices it reads belong to the model's arena); idempotent. */
    @Override
    public void close() {
        if (writer != null) {
            try {
                writer.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private void write() {
        Path temporary = file.resolveSibling(file.getFileName() + ".tmp-" + ProcessHandle.current().pid());
        try {
            removeStaleTemporaries();
            try (FileChannel channel = FileChannel.open(temporary, StandardOpenOption.CREATE,
                    StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE)) {
                ArrayNode tensors = JSON.createArrayNode();
                long end = 0;
                for (Map.Entry<String, WeightTensor> e : made.entrySet()) {
                    WeightTensor t = e.getValue();
                    long offset = align(end);
                    writeFully(channel, t.data(), offset);
                    end = offset + t.data().byteSize();
                    tensors.addObject().put("name", e.getKey()).put("type", t.type().name())
                            .put("packed", ColumnBlocks.isPacked(t)).put("rows", t.rows()).put("cols", t.cols())
                            .put("offset", offset).put("bytes", t.data().byteSize());
                }
                byte[] index = JSON.writeValueAsBytes(identity.deepCopy().set("tensors", tensors));
                long indexOffset = align(end);
                writeFully(channel, ByteBuffer.wrap(index), indexOffset);
                writeFully(channel, ByteBuffer.allocate(TRAILER_BYTES).order(ByteOrder.LITTLE_ENDIAN)
                        .putLong(indexOffset).putLong(MAGIC).flip(), indexOffset + index.length);
                channel.force(false);
            }
            Files.move(temporary, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            long freed = removeOrphans();
            status = new WeightCacheStatus(State.BUILT, file, String.format(
                    "packed weights saved to %s (%.1f GB); later loads map them", file, Files.size(file) / 1e9)
                    + (freed > 0 ? String.format("; removed %.1f GB of cache files whose models are gone or changed",
                    freed / 1e9) : ""));
        } catch (IOException | RuntimeException e) {
            deleteQuietly(temporary);
            status = new WeightCacheStatus(State.UNAVAILABLE, null, "weight cache not saved: " + reason(e));
        }
    }

    /** Writes all of {@code data} at {@code position}, in slices a ByteBuffer can hold. */
    private static void writeFully(FileChannel channel, MemorySegment data, long position) throws IOException {
        long chunk = 1L << 26;
        for (long done = 0; done < data.byteSize(); done += chunk) {
            writeFully(channel, data.asSlice(done, Math.min(chunk, data.byteSize() - done)).asByteBuffer(),
                    position + done);
        }
    }

    /** A positional write may take only part of a buffer; this one takes it all. */
    private static void writeFully(FileChannel channel, ByteBuffer buffer, long position) throws IOException {
        long start = position - buffer.position();
        while (buffer.hasRemaining()) {
            channel.write(buffer, start + buffer.position());
        }
    }

    /** Removes what builds of this file by processes no longer running left behind. */
    private void removeStaleTemporaries() throws IOException {
        String prefix = file.getFileName() + ".tmp-";
        try (Stream<Path> siblings = Files.list(file.getParent())) {
            for (Path p : siblings.filter(p -> p.getFileName().toString().startsWith(prefix)).toList()) {
                String pid = p.getFileName().toString().substring(prefix.length());
                if (!pid.matches("[0-9]{1,18}") || ProcessHandle.of(Long.parseLong(pid)).isEmpty()) {
                    deleteQuietly(p);
                }
            }
        }
    }

    /** Maps the file if its trailer, index and identity check out; it is mapped only then. */
    private boolean map() {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            Index index = readIndex(channel);
            if (index == null || !identity.equals(index.node().deepCopy().without("tensors"))) {
                return false;
            }
            Map<String, JsonNode> found = new HashMap<>();
            for (JsonNode e : index.node().path("tensors")) {
                long offset = e.path("offset").asLong(-1);
                long bytes = e.path("bytes").asLong(-1);
                if (offset < 0 || bytes < 0 || offset + bytes > index.offset() || !e.path("name").isTextual()) {
                    return false;
                }
                GGMLType.valueOf(e.path("type").asText()); // throws for a name that is no type
                found.put(e.path("name").asText(), e);
            }
            mapped = channel.map(FileChannel.MapMode.READ_ONLY, 0, channel.size(), arena);
            entries.putAll(found);
            status = new WeightCacheStatus(State.MAPPED, file, "weights mapped from " + file);
            return true;
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    /** A cache file's index (a JSON object) and where it starts. */
    private record Index(ObjectNode node, long offset) {
    }

    /** The index of the file open on {@code channel}, or null when its trailer or index does not check out. */
    private static Index readIndex(FileChannel channel) throws IOException {
        long size = channel.size();
        if (size < TRAILER_BYTES) {
            return null;
        }
        ByteBuffer trailer = read(channel, size - TRAILER_BYTES, TRAILER_BYTES).order(ByteOrder.LITTLE_ENDIAN);
        long indexOffset = trailer.getLong(0);
        long indexBytes = size - TRAILER_BYTES - indexOffset;
        if (trailer.getLong(8) != MAGIC || indexOffset < 0 || indexBytes <= 0 || indexBytes > MAX_INDEX_BYTES) {
            return null;
        }
        JsonNode index = JSON.readTree(read(channel, indexOffset, (int) indexBytes).array());
        return index instanceof ObjectNode o ? new Index(o, indexOffset) : null;
    }

    /**
     * Deletes the other cache files of the folder that no load can map any more, and returns the bytes freed: those
     * whose model is gone or has changed (its files' names, sizes or modification times), and whole cache files
     * that do not name their model (made before cache files did). Files of other options, and of other builds for a
     * model still in place, are kept.
     */
    private long removeOrphans() {
        long freed = 0;
        try (Stream<Path> siblings = Files.list(file.getParent())) {
            for (Path p : siblings.filter(p -> p.getFileName().toString().endsWith(".weights") && !p.equals(file))
                    .toList()) {
                if (orphaned(p)) {
                    long bytes = Files.size(p);
                    Files.deleteIfExists(p);
                    freed += bytes;
                }
            }
        } catch (IOException e) {
            // housekeeping only: what is left is looked at again by the next build
        }
        return freed;
    }

    private static boolean orphaned(Path cacheFile) {
        try (FileChannel channel = FileChannel.open(cacheFile, StandardOpenOption.READ)) {
            Index index = readIndex(channel);
            if (index == null) {
                return false; // not a cache file this code wrote whole: leave it alone
            }
            JsonNode model = index.node().path("model");
            if (!model.isTextual()) {
                return true;
            }
            Path modelPath = Path.of(model.asText());
            if (!Files.exists(modelPath)) {
                return true;
            }
            List<Path> now = sources(modelPath);
            JsonNode recorded = index.node().path("sources");
            if (recorded.size() != now.size()) {
                return true;
            }
            for (int i = 0; i < now.size(); i++) {
                JsonNode r = recorded.get(i);
                Path source = now.get(i);
                if (!r.path("name").asText().equals(source.getFileName().toString())
                        || r.path("size").asLong() != Files.size(source)
                        || r.path("modified").asLong() != Files.getLastModifiedTime(source).toMillis()) {
                    return true;
                }
            }
            return false;
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    private static ByteBuffer read(FileChannel channel, long position, int bytes) throws IOException {
        ByteBuffer buffer = ByteBuffer.allocate(bytes);
        while (buffer.hasRemaining()) {
            if (channel.read(buffer, position + buffer.position()) < 0) {
                throw new IOException("file ends early");
            }
        }
        return buffer.flip();
    }

    /** The model file, or the regular files of a model directory (config and weights). */
    private static List<Path> sources(Path modelPath) throws IOException {
        if (!Files.isDirectory(modelPath)) {
            return List.of(modelPath);
        }
        try (Stream<Path> files = Files.list(modelPath)) {
            return files.filter(Files::isRegularFile).filter(p -> !p.getFileName().toString().startsWith("."))
                    .sorted().toList();
        }
    }

    private static ObjectNode identity(Path realModelPath, List<Path> sources, LoadOptions options)
            throws IOException {
        ObjectNode id = JSON.createObjectNode();
        id.put("model", realModelPath.toString());
        ArrayNode files = id.putArray("sources");
        for (Path source : sources) {
            files.addObject().put("name", source.getFileName().toString()).put("size", Files.size(source))
                    .put("modified", Files.getLastModifiedTime(source).toMillis()).put("sample", sample(source));
        }
        id.put("layout", layoutChecksum()).put("lanes", PackedTensor.LANES)
                .put("quantize", options.quantize().name()).put("pack", options.pack());
        // As read back: a small size parses as an int node, which never equals the long node it was put as.
        return (ObjectNode) JSON.readTree(JSON.writeValueAsBytes(id));
    }

    /**
     * A checksum of 64 slices of 4 KiB spread over the file and its last 4 KiB: another file of the same size and
     * modification time (a copy that kept the time of another quantization) differs there.
     */
    private static String sample(Path source) throws IOException {
        CRC32C crc = new CRC32C();
        try (FileChannel channel = FileChannel.open(source, StandardOpenOption.READ)) {
            long size = channel.size();
            for (int i = 0; i <= 64; i++) {
                long position = i < 64 ? size / 64 * i : Math.max(0, size - 4096);
                crc.update(read(channel, position, (int) Math.min(4096, size - position)));
            }
        }
        return Long.toHexString(crc.getValue());
    }

    /** The bytecode of what decides the bytes written: the packed formats and the load-time quantizer. */
    private static String layoutChecksum() throws IOException {
        CRC32 crc = new CRC32();
        for (Class<?> c : layoutClasses()) {
            try (InputStream in = c.getResourceAsStream(c.getSimpleName() + ".class")) {
                if (in == null) {
                    throw new IOException("cannot read the bytecode of " + c.getName());
                }
                crc.update(in.readAllBytes());
            }
        }
        return Long.toHexString(crc.getValue());
    }

    /**
     * The classes {@link #layoutChecksum} reads: the packer and the quantizer, the source formats they read or write,
     * {@link ColumnBlocks} and every class of the sealed {@link PackedTensor} hierarchy (the K formats sit a level
     * down).
     */
    static List<Class<?>> layoutClasses() {
        List<Class<?>> classes = new ArrayList<>(List.of(WeightPacker.class, WeightQuantizer.class, ColumnBlocks.class,
                Q4_0Tensor.class, Q4_1Tensor.class, Q8_0Tensor.class, Q4_KTensor.class, Q5_KTensor.class,
                Q6_KTensor.class));
        List<Class<?>> sealed = new ArrayList<>(List.of(PackedTensor.class));
        while (!sealed.isEmpty()) {
            Class<?> c = sealed.removeFirst();
            classes.add(c);
            if (c.isSealed()) {
                sealed.addAll(List.of(c.getPermittedSubclasses()));
            }
        }
        return classes;
    }

    private static String fileName(Path realModelPath, LoadOptions options) {
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            sha.update((realModelPath + "\n" + options.quantize() + "\n" + options.pack())
                    .getBytes(StandardCharsets.UTF_8));
            String key = HexFormat.of().formatHex(sha.digest(), 0, 8);
            String stem = realModelPath.getFileName().toString().replaceAll("[^A-Za-z0-9._-]", "_");
            return stem + "-" + key + ".weights";
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** What went wrong with a file, in words: the path and the reason, not an exception class. */
    private static String reason(Exception e) {
        if (e instanceof FileSystemException f) {
            String why = f.getReason() != null ? f.getReason() : switch (f) {
                case NoSuchFileException ignored -> "no such file or directory";
                case AccessDeniedException ignored -> "permission denied";
                case FileAlreadyExistsException ignored -> "a file is in the way of a folder";
                default -> "cannot be read or written";
            };
            return f.getFile() + ": " + why;
        }
        return e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName();
    }

    private static long align(long offset) {
        return (offset + ALIGN - 1) / ALIGN * ALIGN;
    }

    private static void deleteQuietly(Path p) {
        try {
            if (p != null) {
                Files.deleteIfExists(p);
            }
        } catch (IOException ignored) {
            // a stale temporary file is removed by the next build
        }
    }
}
