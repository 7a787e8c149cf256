package dev.nemotron4j.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.nemotron4j.model.WeightCacheStatus.State;
import dev.nemotron4j.tensor.GGMLType;
import dev.nemotron4j.tensor.NativeMemory;
import dev.nemotron4j.tensor.PackedTensor;
import dev.nemotron4j.tensor.Q4_0Tensor;
import dev.nemotron4j.tensor.Q8_0Tensor;
import dev.nemotron4j.tensor.WeightTensor;

import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import java.util.zip.CRC32;

/**
 * The matrices a load transforms (quantized on load, or repacked for the decode kernels), kept in one file per model
 * and load options so that the next load maps them instead of making them again: on a warm page cache that is a
 * mapping, not gigabytes of fresh memory written. While a cache is built, the quantizer and packer write straight into
 * the file's mapping, so building it costs no copy; the finished file is synced and renamed into place in the
 * background, and a file is only ever found whole.
 *
 * <p>File: matrix data at 4 KiB-aligned offsets, then a JSON index (what the file was made from, and each matrix's
 * name, type, shape and place), then 16 bytes: the index offset and {@link #MAGIC}. The index names the source files
 * by size and modification time, the vector width, the load options and a checksum of the bytecode of the classes
 * that define the layouts; a file that differs in any of them is built again.
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
    /** Build mode: the file being written and where each region given out starts in it. */
    private FileChannel building;
    private Path temporary;
    private long end;
    private final Map<Long, Long> regionOffsets = new HashMap<>();
    private final ArrayNode written = JSON.createArrayNode();
    private Thread finisher;

    private WeightCache(Arena arena, Path file, ObjectNode identity, WeightCacheStatus status) {
        this.arena = arena;
        this.file = file;
        this.identity = identity;
        this.status = status;
    }

    /** A cache for the model at {@code modelPath} in {@code options.weightCache()}, mapped, built, or off. */
    static WeightCache open(Path modelPath, LoadOptions options, Arena arena) {
        Path dir = options.weightCache();
        if (dir == null) {
            return off(arena, new WeightCacheStatus(State.OFF, null, "weight cache off"));
        }
        try {
            List<Path> sources = sources(modelPath);
            ObjectNode identity = identity(sources, options);
            Path file = dir.resolve(fileName(modelPath.toRealPath(), options));
            WeightCache cache = new WeightCache(arena, file, identity, null);
            if (Files.isRegularFile(file) && cache.map()) {
                return cache;
            }
            Files.createDirectories(dir);
            long needed = 0;
            for (Path source : sources) {
                needed += Files.size(source);
            }
            long usable = Files.getFileStore(dir).getUsableSpace();
            if (usable < needed + (1L << 30)) {
                return off(arena, new WeightCacheStatus(State.UNAVAILABLE, null, String.format(
                        "weight cache not written: %s has %.1f GB free, about %.1f GB are needed", dir,
                        usable / 1e9, (needed + (1L << 30)) / 1e9)));
            }
            cache.startBuilding();
            return cache;
        } catch (IOException | RuntimeException e) {
            return off(arena, new WeightCacheStatus(State.UNAVAILABLE, null, "weight cache not used: " + e.getMessage()));
        }
    }

    private static WeightCache off(Arena arena, WeightCacheStatus status) {
        return new WeightCache(arena, null, null, status);
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
        return e.path("packed").asBoolean() ? WeightPacker.packedView(type, data, rows, cols)
                : WeightTensor.of(type, data, rows, cols);
    }

    /** Memory for a matrix made at load time: a region of the file being built, else the model's arena. */
    MemorySegment allocate(long bytes) {
        if (building != null && bytes > 0) {
            long offset = align(end);
            try {
                MemorySegment region = building.map(FileChannel.MapMode.READ_WRITE, offset, bytes, arena);
                end = offset + bytes;
                regionOffsets.put(region.address(), offset);
                return region;
            } catch (IOException e) {
                abandon("weight cache not written: " + e.getMessage());
            }
        }
        return NativeMemory.allocate(arena, bytes);
    }

    /** Whether {@code segment} is a region {@link #allocate} gave out of the file being built. */
    boolean owns(MemorySegment segment) {
        return building != null && regionOffsets.containsKey(segment.address());
    }

    /** Records {@code tensor} as matrix {@code name} when its data lies in the file being built. */
    void keep(String name, WeightTensor tensor) {
        Long offset = building == null ? null : regionOffsets.get(tensor.data().address());
        if (offset == null) {
            return;
        }
        written.addObject().put("name", name).put("type", tensor.type().name())
                .put("packed", tensor instanceof PackedTensor).put("rows", tensor.rows()).put("cols", tensor.cols())
                .put("offset", offset).put("bytes", tensor.data().byteSize());
    }

    /**
     * Ends a build: writes the index and trailer, then syncs the file and renames it into place on a thread of its own
     * ({@link #close()} waits for it). A build that kept nothing leaves no file.
     */
    void finish() {
        if (building == null) {
            return;
        }
        if (written.isEmpty()) {
            abandon("weight cache not written: no matrix is quantized or packed on load");
            status = new WeightCacheStatus(State.OFF, null, status.detail());
            return;
        }
        FileChannel channel = building;
        building = null;
        try {
            ObjectNode index = identity.deepCopy().set("tensors", written);
            byte[] json = JSON.writeValueAsBytes(index);
            long indexOffset = align(end);
            channel.write(ByteBuffer.wrap(json), indexOffset);
            ByteBuffer trailer = ByteBuffer.allocate(TRAILER_BYTES).order(ByteOrder.LITTLE_ENDIAN)
                    .putLong(indexOffset).putLong(MAGIC).flip();
            channel.write(trailer, indexOffset + json.length);
        } catch (IOException e) {
            closeQuietly(channel);
            deleteQuietly(temporary);
            status = new WeightCacheStatus(State.UNAVAILABLE, null, "weight cache not written: " + e.getMessage());
            return;
        }
        long bytes = end;
        status = new WeightCacheStatus(State.BUILT, file, String.format("weights packed into %s (%.1f GB); later loads map it",
                file, bytes / 1e9));
        finisher = Thread.ofPlatform().name("weight-cache-sync").start(() -> {
            try (channel) {
                channel.force(false);
                Files.move(temporary, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            } catch (IOException e) {
                deleteQuietly(temporary);
                status = new WeightCacheStatus(State.UNAVAILABLE, null, "weight cache not saved: " + e.getMessage());
            }
        });
    }

    /** Waits for a build's sync and rename; the mapped memory itself belongs to the model's arena. */
    @Override
    public void close() {
        if (building != null) {
            abandon(status == null ? "weight cache not written" : status.detail());
        }
        if (finisher != null) {
            try {
                finisher.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private boolean map() {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = channel.size();
            if (size < TRAILER_BYTES) {
                return false;
            }
            MemorySegment whole = channel.map(FileChannel.MapMode.READ_ONLY, 0, size, arena);
            long indexOffset = whole.get(ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN),
                    size - TRAILER_BYTES);
            long magic = whole.get(ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN),
                    size - 8);
            long indexBytes = size - TRAILER_BYTES - indexOffset;
            if (magic != MAGIC || indexOffset < 0 || indexBytes <= 0 || indexBytes > MAX_INDEX_BYTES) {
                return false;
            }
            JsonNode index = JSON.readTree(whole.asSlice(indexOffset, indexBytes).toArray(ValueLayout.JAVA_BYTE));
            if (!(index instanceof ObjectNode o) || !identity.equals(o.deepCopy().without("tensors"))) {
                return false;
            }
            Map<String, JsonNode> found = new HashMap<>();
            for (JsonNode e : index.path("tensors")) {
                long offset = e.path("offset").asLong(-1);
                long bytes = e.path("bytes").asLong(-1);
                if (offset < 0 || bytes < 0 || offset + bytes > indexOffset || !e.path("name").isTextual()) {
                    return false;
                }
                GGMLType.valueOf(e.path("type").asText()); // throws for a name that is no type
                found.put(e.path("name").asText(), e);
            }
            entries.putAll(found);
            mapped = whole;
            status = new WeightCacheStatus(State.MAPPED, file, "weights mapped from " + file);
            return true;
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    private void startBuilding() throws IOException {
        String prefix = file.getFileName() + ".tmp-";
        try (Stream<Path> siblings = Files.list(file.getParent())) {
            for (Path p : siblings.filter(p -> p.getFileName().toString().startsWith(prefix)).toList()) {
                String pid = p.getFileName().toString().substring(prefix.length());
                if (!pid.matches("[0-9]{1,18}") || ProcessHandle.of(Long.parseLong(pid)).isEmpty()) {
                    deleteQuietly(p); // left by a process that died while building
                }
            }
        }
        temporary = file.resolveSibling(prefix + ProcessHandle.current().pid());
        building = FileChannel.open(temporary, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
                StandardOpenOption.READ, StandardOpenOption.WRITE);
        status = new WeightCacheStatus(State.BUILT, file, "building " + file);
    }

    private void abandon(String why) {
        closeQuietly(building);
        building = null;
        deleteQuietly(temporary);
        status = new WeightCacheStatus(State.UNAVAILABLE, null, why);
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

    private static ObjectNode identity(List<Path> sources, LoadOptions options) throws IOException {
        ObjectNode id = JSON.createObjectNode();
        ArrayNode files = id.putArray("sources");
        for (Path source : sources) {
            files.addObject().put("name", source.getFileName().toString()).put("size", Files.size(source))
                    .put("modified", Files.getLastModifiedTime(source).toMillis());
        }
        id.put("layout", layoutChecksum()).put("lanes", PackedTensor.LANES)
                .put("quantize", options.quantize().name()).put("pack", options.pack());
        // As read back: a small size parses as an int node, which never equals the long node it was put as.
        return (ObjectNode) JSON.readTree(JSON.writeValueAsBytes(id));
    }

    /** The bytecode of what decides the bytes written: the packed formats and the load-time quantizer. */
    private static String layoutChecksum() throws IOException {
        List<Class<?>> classes = new ArrayList<>(List.of(PackedTensor.class.getPermittedSubclasses()));
        classes.addAll(List.of(PackedTensor.class, WeightPacker.class, WeightQuantizer.class, Q8_0Tensor.class,
                Q4_0Tensor.class));
        CRC32 crc = new CRC32();
        for (Class<?> c : classes) {
            try (InputStream in = c.getResourceAsStream(c.getSimpleName() + ".class")) {
                if (in == null) {
                    throw new IOException("cannot read the bytecode of " + c.getName());
                }
                crc.update(in.readAllBytes());
            }
        }
        return Long.toHexString(crc.getValue());
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

    private static long align(long offset) {
        return (offset + ALIGN - 1) / ALIGN * ALIGN;
    }

    private static void closeQuietly(FileChannel channel) {
        try {
            if (channel != null) {
                channel.close();
            }
        } catch (IOException ignored) {
            // the file is deleted next
        }
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
