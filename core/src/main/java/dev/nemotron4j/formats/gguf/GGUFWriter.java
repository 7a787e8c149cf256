package dev.nemotron4j.formats.gguf;

import dev.nemotron4j.formats.ModelFormatException;
import dev.nemotron4j.formats.TensorEntry;
import dev.nemotron4j.tensor.GGMLType;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.reflect.Array;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Writes GGUF v3 files in the layout {@link GGUFFile} reads and llama.cpp/gguf-py write: header, metadata, tensor
 * infos (dims innermost-first), zero padding to the alignment ({@code general.alignment}, else 32), then each tensor's
 * data at an aligned offset, each followed by zero padding to the alignment. Metadata and tensor descriptions are
 * collected first; {@link #write} then streams the data tensor by tensor through a FileChannel, so tensor sources
 * (e.g. generated random weights) are only asked for their bytes one at a time and never held together in memory.
 */
public final class GGUFWriter {
    private static final int MAGIC = 0x46554747;
    private static final int VERSION = 3;
    private static final int DEFAULT_ALIGNMENT = 32;
    /** llama.cpp's GGML_MAX_NAME, including the terminating NUL it keeps. */
    private static final int MAX_NAME_BYTES = 63;
    private static final int CHUNK = 16 << 20;

    /** Produces a tensor's bytes on demand; it must write exactly the tensor's byte size. */
    @FunctionalInterface
    public interface TensorSource {
        void writeTo(WritableByteChannel out) throws IOException;
    }

    private record Meta(GGUFValueType type, Object value) {}

    private record Tensor(String name, GGMLType type, long[] shape, long bytes, TensorSource source) {}

    private final Map<String, Meta> metadata = new LinkedHashMap<>();
    private final List<Tensor> tensors = new ArrayList<>();
    private final Set<String> tensorNames = new HashSet<>();

    /**
     * Adds metadata {@code key} of {@code type}. Values as {@link GGUFFile#metadata} returns them: any Number for
     * numeric types (range-checked), Boolean, String, or a {@link GGUFArray}. Replaces an earlier value of the key.
     */
    public GGUFWriter put(String key, GGUFValueType type, Object value) {
        checkValue(key, type, value);
        if (key.equals("general.alignment") && (type != GGUFValueType.UINT32 || !isPowerOfTwo(((Number) value).longValue()))) {
            throw new ModelFormatException("general.alignment must be a UINT32 power of two, got " + type + " " + value);
        }
        metadata.put(key, new Meta(type, value));
        return this;
    }

    public GGUFWriter putString(String key, String value) {
        return put(key, GGUFValueType.STRING, value);
    }

    public GGUFWriter putUInt32(String key, long value) {
        return put(key, GGUFValueType.UINT32, value);
    }

    public GGUFWriter putInt32(String key, int value) {
        return put(key, GGUFValueType.INT32, value);
    }

    public GGUFWriter putUInt64(String key, long value) {
        return put(key, GGUFValueType.UINT64, value);
    }

    public GGUFWriter putFloat32(String key, float value) {
        return put(key, GGUFValueType.FLOAT32, value);
    }

    public GGUFWriter putBool(String key, boolean value) {
        return put(key, GGUFValueType.BOOL, value);
    }

    public GGUFWriter putArray(String key, GGUFArray value) {
        return put(key, GGUFValueType.ARRAY, value);
    }

    public GGUFWriter putStringArray(String key, String[] values) {
        return putArray(key, new GGUFArray(GGUFValueType.STRING, values));
    }

    public GGUFWriter putFloatArray(String key, float[] values) {
        return putArray(key, new GGUFArray(GGUFValueType.FLOAT32, values));
    }

    /** An array of INT32, as llama.cpp stores token types. */
    public GGUFWriter putIntArray(String key, int[] values) {
        return putArray(key, new GGUFArray(GGUFValueType.INT32, values));
    }

    /** Copies every metadata entry of {@code source} with its type, in file order. */
    public GGUFWriter putAll(GGUFFile source) {
        for (Map.Entry<String, Object> e : source.metadata().entrySet()) {
            put(e.getKey(), source.metadataType(e.getKey()), e.getValue());
        }
        return this;
    }

    /** Adds a tensor of {@code shape} (outermost-first, as {@link TensorEntry}) whose bytes {@code source} writes. */
    public GGUFWriter addTensor(String name, GGMLType type, long[] shape, TensorSource source) {
        byte[] nameBytes = name.getBytes(StandardCharsets.UTF_8);
        if (nameBytes.length == 0 || nameBytes.length > MAX_NAME_BYTES) {
            throw new ModelFormatException("tensor name '" + name + "' must have 1 to " + MAX_NAME_BYTES + " bytes");
        }
        if (!tensorNames.add(name)) {
            throw new ModelFormatException("tensor '" + name + "' added twice");
        }
        if (shape.length < 1 || shape.length > 4) {
            throw new ModelFormatException("tensor '" + name + "' has " + shape.length + " dimensions (GGUF allows 1-4)");
        }
        long elements = 1;
        for (long d : shape) {
            if (d < 0) {
                throw new ModelFormatException("tensor '" + name + "' has negative dimension in " + Arrays.toString(shape));
            }
            elements = Math.multiplyExact(elements, d);
        }
        if (shape[shape.length - 1] % type.blockSize != 0) {
            throw new ModelFormatException("tensor '" + name + "' row length " + shape[shape.length - 1]
                    + " is not a multiple of the " + type + " block size " + type.blockSize);
        }
        tensors.add(new Tensor(name, type, shape.clone(), type.byteSize(elements), source));
        return this;
    }

    /** Adds a tensor whose bytes are {@code data} (a mapped file slice or any segment), written as they are. */
    public GGUFWriter addTensor(String name, GGMLType type, long[] shape, MemorySegment data) {
        addTensor(name, type, shape, out -> writeSegment(out, data));
        requireSize(tensors.getLast(), data.byteSize());
        return this;
    }

    public GGUFWriter addTensor(String name, GGMLType type, long[] shape, byte[] data) {
        return addTensor(name, type, shape, MemorySegment.ofArray(data));
    }

    /** Adds {@code tensor} with its name, type, shape and bytes. */
    public GGUFWriter addTensor(TensorEntry tensor) {
        return addTensor(tensor.name(), tensor.type(), tensor.shape(), tensor.data());
    }

    private void requireSize(Tensor t, long given) {
        if (given != t.bytes) {
            tensors.removeLast();
            tensorNames.remove(t.name);
            throw new ModelFormatException("tensor '" + t.name + "' of shape " + Arrays.toString(t.shape) + " and type "
                    + t.type + " needs " + t.bytes + " bytes, got " + given);
        }
    }

    /** Writes the file; on failure the partial file is deleted. */
    public void write(Path path) {
        int alignment = alignment();
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            byte[] header = header(alignment);
            writeFully(ch, ByteBuffer.wrap(header));
            writeZeros(ch, padding(header.length, alignment));
            for (Tensor t : tensors) {
                CountingChannel counted = new CountingChannel(ch);
                t.source.writeTo(counted);
                if (counted.count != t.bytes) {
                    throw new ModelFormatException("source of tensor '" + t.name + "' wrote " + counted.count
                            + " bytes, expected " + t.bytes);
                }
                writeZeros(ch, padding(t.bytes, alignment));
            }
        } catch (IOException | RuntimeException e) {
            try {
                Files.deleteIfExists(path);
            } catch (IOException suppressed) {
                e.addSuppressed(suppressed);
            }
            if (e instanceof ModelFormatException mfe) {
                throw mfe;
            }
            throw new ModelFormatException("cannot write " + path + ": " + e.getMessage(), e);
        }
    }

    private int alignment() {
        Meta a = metadata.get("general.alignment");
        return a == null ? DEFAULT_ALIGNMENT : (int) ((Number) a.value).longValue();
    }

    private byte[] header(int alignment) {
        Out out = new Out();
        out.u32(MAGIC);
        out.u32(VERSION);
        out.u64(tensors.size());
        out.u64(metadata.size());
        for (Map.Entry<String, Meta> e : metadata.entrySet()) {
            out.string(e.getKey());
            out.u32(e.getValue().type.ordinal());
            out.value(e.getValue().type, e.getValue().value);
        }
        long offset = 0;
        for (Tensor t : tensors) {
            out.string(t.name);
            out.u32(t.shape.length);
            for (int d = t.shape.length - 1; d >= 0; d--) {
                out.u64(t.shape[d]);
            }
            out.u32(t.type.id);
            out.u64(offset);
            offset += t.bytes + padding(t.bytes, alignment);
        }
        return out.toByteArray();
    }

    private static void checkValue(String key, GGUFValueType type, Object value) {
        boolean ok = switch (type) {
            case UINT8 -> inRange(value, 0, 0xFF);
            case INT8 -> inRange(value, Byte.MIN_VALUE, Byte.MAX_VALUE);
            case UINT16 -> inRange(value, 0, 0xFFFF);
            case INT16 -> inRange(value, Short.MIN_VALUE, Short.MAX_VALUE);
            case UINT32 -> inRange(value, 0, 0xFFFFFFFFL);
            case INT32 -> inRange(value, Integer.MIN_VALUE, Integer.MAX_VALUE);
            case UINT64, INT64 -> value instanceof Long || value instanceof Integer || value instanceof Short
                    || value instanceof Byte;
            case FLOAT32, FLOAT64 -> value instanceof Number;
            case BOOL -> value instanceof Boolean;
            case STRING -> value instanceof String;
            case ARRAY -> value instanceof GGUFArray;
        };
        if (!ok) {
            throw new ModelFormatException("metadata " + key + ": " + (value == null ? "null" : value.getClass().getSimpleName()
                    + " " + value) + " is not a valid " + type);
        }
        if (value instanceof GGUFArray(GGUFValueType elementType, Object values)) {
            if (values == null || !values.getClass().isArray()) {
                throw new ModelFormatException("metadata " + key + ": array values must be a Java array");
            }
            int n = Array.getLength(values);
            for (int i = 0; i < n; i++) {
                checkValue(key + "[" + i + "]", elementType, Array.get(values, i));
            }
        }
    }

    private static boolean inRange(Object value, long min, long max) {
        if (!(value instanceof Long || value instanceof Integer || value instanceof Short || value instanceof Byte)) {
            return false;
        }
        long v = ((Number) value).longValue();
        return v >= min && v <= max;
    }

    private static boolean isPowerOfTwo(long v) {
        return v > 0 && v <= 1 << 20 && (v & (v - 1)) == 0;
    }

    private static long padding(long size, int alignment) {
        return (alignment - size % alignment) % alignment;
    }

    private static void writeSegment(WritableByteChannel out, MemorySegment data) throws IOException {
        for (long off = 0; off < data.byteSize(); off += CHUNK) {
            writeFully(out, data.asSlice(off, Math.min(CHUNK, data.byteSize() - off)).asByteBuffer());
        }
    }

    private static void writeZeros(WritableByteChannel out, long n) throws IOException {
        writeFully(out, ByteBuffer.allocate((int) n));
    }

    private static void writeFully(WritableByteChannel out, ByteBuffer buf) throws IOException {
        while (buf.hasRemaining()) {
            out.write(buf);
        }
    }

    /** Counts what a tensor source writes, so a wrong size is caught before it shifts every later tensor. */
    private static final class CountingChannel implements WritableByteChannel {
        private final WritableByteChannel target;
        private long count;

        CountingChannel(WritableByteChannel target) {
            this.target = target;
        }

        @Override
        public int write(ByteBuffer src) throws IOException {
            int n = target.write(src);
            count += n;
            return n;
        }

        @Override
        public boolean isOpen() {
            return target.isOpen();
        }

        @Override
        public void close() {
            // The writer owns the file channel; a source closing its view must not close the file.
        }
    }

    /** Little-endian encoder for the header. */
    private static final class Out extends ByteArrayOutputStream {
        void u8(int v) {
            write(v);
        }

        void u16(int v) {
            u8(v);
            u8(v >>> 8);
        }

        void u32(int v) {
            u16(v);
            u16(v >>> 16);
        }

        void u64(long v) {
            u32((int) v);
            u32((int) (v >>> 32));
        }

        void string(String s) {
            byte[] b = s.getBytes(StandardCharsets.UTF_8);
            u64(b.length);
            write(b, 0, b.length);
        }

        void value(GGUFValueType type, Object v) {
            switch (type) {
                case UINT8, INT8 -> u8(((Number) v).intValue());
                case UINT16, INT16 -> u16(((Number) v).intValue());
                case UINT32, INT32 -> u32((int) ((Number) v).longValue());
                case UINT64, INT64 -> u64(((Number) v).longValue());
                case FLOAT32 -> u32(Float.floatToRawIntBits(((Number) v).floatValue()));
                case FLOAT64 -> u64(Double.doubleToRawLongBits(((Number) v).doubleValue()));
                case BOOL -> u8((Boolean) v ? 1 : 0);
                case STRING -> string((String) v);
                case ARRAY -> {
                    GGUFArray a = (GGUFArray) v;
                    u32(a.elementType().ordinal());
                    int n = a.length();
                    u64(n);
                    for (int i = 0; i < n; i++) {
                        value(a.elementType(), Array.get(a.values(), i));
                    }
                }
            }
        }
    }
}
