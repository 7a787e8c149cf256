package dev.nemotron4j.formats.gguf;

import dev.nemotron4j.formats.MappedFile;
import dev.nemotron4j.formats.ModelFile;
import dev.nemotron4j.formats.ModelFormatException;
import dev.nemotron4j.formats.TensorEntry;
import dev.nemotron4j.tensor.GGMLType;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A GGUF file (versions 2 and 3), memory-mapped. Layout: magic "GGUF", u32 version, u64 tensor count, u64 metadata
 * count; the metadata key/value pairs; the tensor infos (name, dims innermost-first, ggml type, offset); padding to
 * {@code general.alignment} (default 32); then the tensor data, each tensor at its offset from the data start.
 * Every read is bounds-checked, so a truncated or corrupt file gives a {@link ModelFormatException}, not a crash.
 */
public final class GGUFFile implements ModelFile {
    private static final int MAGIC = 0x46554747; // "GGUF" read as a little-endian u32
    private static final int DEFAULT_ALIGNMENT = 32;
    private static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong U64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfDouble F64 = ValueLayout.JAVA_DOUBLE_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final MappedFile file;
    private final int version;
    private final int alignment;
    private final Map<String, Object> metadata;
    private final Map<String, GGUFValueType> metadataTypes;
    private final Map<String, TensorEntry> tensors;
    private final long dataOffset;

    private GGUFFile(MappedFile file) {
        this.file = file;
        Reader in = new Reader(file.segment(), file.path());
        int magic = in.u32();
        if (magic != MAGIC) {
            throw new ModelFormatException(file.path() + " is not a GGUF file (bad magic 0x"
                    + Integer.toHexString(magic) + ")");
        }
        version = in.u32();
        if (version != 2 && version != 3) {
            throw new ModelFormatException(file.path() + ": GGUF version " + Integer.toUnsignedString(version)
                    + " is not supported (only 2 and 3)");
        }
        // A tensor info takes at least 32 bytes (name length, one dim, type, offset): bounds the info array.
        long tensorCount = in.count("tensor count", 32);
        long kvCount = in.count("metadata count", 13);
        Map<String, Object> md = new LinkedHashMap<>();
        Map<String, GGUFValueType> types = new LinkedHashMap<>();
        for (long i = 0; i < kvCount; i++) {
            String key = in.string();
            GGUFValueType type = in.valueType(key);
            types.put(key, type);
            md.put(key, in.value(type, key));
        }
        metadata = Collections.unmodifiableMap(md);
        metadataTypes = Collections.unmodifiableMap(types);
        alignment = alignmentFrom(md);

        record Info(String name, GGMLType type, long[] shape, long offset) {}
        Info[] infos = new Info[(int) tensorCount];
        for (int i = 0; i < tensorCount; i++) {
            String name = in.string();
            int nDims = in.u32();
            if (nDims < 1 || nDims > 4) {
                throw new ModelFormatException(file.path() + ": tensor '" + name + "' has " + nDims + " dimensions");
            }
            long[] shape = new long[nDims];
            for (int d = 0; d < nDims; d++) {
                long ne = in.u64();
                if (ne < 0 || ne > (1L << 40)) {
                    throw new ModelFormatException(file.path() + ": tensor '" + name + "' has invalid dimension " + ne);
                }
                shape[nDims - 1 - d] = ne; // GGUF is innermost-first; we keep outermost-first
            }
            int typeId = in.u32();
            GGMLType type = GGMLType.byId(typeId);
            if (type == null) {
                throw new ModelFormatException(file.path() + ": tensor '" + name + "' has unknown ggml type id " + typeId);
            }
            infos[i] = new Info(name, type, shape, in.u64());
        }
        dataOffset = alignUp(in.position(), alignment);
        Map<String, TensorEntry> ts = new LinkedHashMap<>();
        for (Info info : infos) {
            long elements = 1;
            for (long d : info.shape) {
                try {
                    elements = Math.multiplyExact(elements, d);
                } catch (ArithmeticException e) {
                    throw new ModelFormatException(file.path() + ": tensor '" + info.name + "' has too many elements");
                }
            }
            if (info.shape[info.shape.length - 1] % info.type.blockSize != 0) {
                throw new ModelFormatException(file.path() + ": tensor '" + info.name + "' row length "
                        + info.shape[info.shape.length - 1] + " is not a multiple of the " + info.type
                        + " block size " + info.type.blockSize);
            }
            long bytes = info.type.byteSize(elements);
            long start = dataOffset + info.offset;
            if (info.offset < 0 || info.offset % alignment != 0 || start + bytes > file.size() || start + bytes < start) {
                throw new ModelFormatException(file.path() + ": tensor '" + info.name + "' (" + bytes + " bytes at offset "
                        + info.offset + ") lies outside the file of " + file.size() + " bytes — truncated or corrupt");
            }
            if (ts.put(info.name, new TensorEntry(info.name, info.type, info.shape,
                    file.segment().asSlice(start, bytes))) != null) {
                throw new ModelFormatException(file.path() + ": tensor '" + info.name + "' appears twice");
            }
        }
        tensors = Collections.unmodifiableMap(ts);
    }

    /** Maps and parses {@code path}; the caller closes it. */
    public static GGUFFile open(Path path) {
        MappedFile file = MappedFile.open(path);
        try {
            return new GGUFFile(file);
        } catch (RuntimeException e) {
            file.close();
            throw e;
        }
    }

    /** True when the file starts with the GGUF magic. */
    public static boolean hasMagic(MemorySegment head) {
        return head.byteSize() >= 4 && head.get(U32, 0) == MAGIC;
    }

    private int alignmentFrom(Map<String, Object> md) {
        Object a = md.get("general.alignment");
        if (a == null) {
            return DEFAULT_ALIGNMENT;
        }
        long v = a instanceof Number n ? n.longValue() : -1;
        if (v <= 0 || v > 1 << 20 || (v & (v - 1)) != 0) {
            throw new ModelFormatException(file.path() + ": general.alignment " + a + " is not a power of two");
        }
        return (int) v;
    }

    private static long alignUp(long x, int alignment) {
        return (x + alignment - 1) / alignment * alignment;
    }

    @Override
    public Path path() {
        return file.path();
    }

    public int version() {
        return version;
    }

    public int alignment() {
        return alignment;
    }

    public long dataOffset() {
        return dataOffset;
    }

    @Override
    public Map<String, TensorEntry> tensors() {
        return tensors;
    }

    /**
     * Metadata by key, in file order. Values: Integer (8/16-bit and INT32), Long (UINT32, INT64, UINT64), Float,
     * Double, Boolean, String, or {@link GGUFArray}.
     */
    public Map<String, Object> metadata() {
        return metadata;
    }

    public GGUFValueType metadataType(String key) {
        return metadataTypes.get(key);
    }

    public boolean has(String key) {
        return metadata.containsKey(key);
    }

    public String getString(String key) {
        return get(key, String.class);
    }

    public String getString(String key, String fallback) {
        return has(key) ? getString(key) : fallback;
    }

    public long getLong(String key) {
        return get(key, Number.class).longValue();
    }

    public int getInt(String key) {
        long v = getLong(key);
        if (v < Integer.MIN_VALUE || v > Integer.MAX_VALUE) {
            throw new ModelFormatException(path() + ": metadata " + key + " = " + v + " is out of range");
        }
        return (int) v;
    }

    public int getInt(String key, int fallback) {
        return has(key) ? getInt(key) : fallback;
    }

    public float getFloat(String key) {
        return get(key, Number.class).floatValue();
    }

    public float getFloat(String key, float fallback) {
        return has(key) ? getFloat(key) : fallback;
    }

    public boolean getBoolean(String key, boolean fallback) {
        return has(key) ? get(key, Boolean.class) : fallback;
    }

    public GGUFArray getArray(String key) {
        return get(key, GGUFArray.class);
    }

    public String[] getStringArray(String key) {
        return arrayOf(key, String[].class);
    }

    public float[] getFloatArray(String key) {
        return arrayOf(key, float[].class);
    }

    public int[] getIntArray(String key) {
        return arrayOf(key, int[].class);
    }

    private <T> T arrayOf(String key, Class<T> javaType) {
        Object values = getArray(key).values();
        if (!javaType.isInstance(values)) {
            throw new ModelFormatException(path() + ": metadata " + key + " is an array of "
                    + getArray(key).elementType() + ", expected " + javaType.getComponentType().getSimpleName());
        }
        return javaType.cast(values);
    }

    private <T> T get(String key, Class<T> type) {
        Object v = metadata.get(key);
        if (v == null) {
            throw new ModelFormatException(path() + ": metadata key " + key + " is missing");
        }
        if (!type.isInstance(v)) {
            throw new ModelFormatException(path() + ": metadata " + key + " has type " + metadataTypes.get(key)
                    + ", expected " + type.getSimpleName());
        }
        return type.cast(v);
    }

    @Override
    public void close() {
        file.close();
    }

    /** Sequential, bounds-checked little-endian reader over the mapped file. */
    private static final class Reader {
        private final MemorySegment seg;
        private final Path path;
        private long pos;

        Reader(MemorySegment seg, Path path) {
            this.seg = seg;
            this.path = path;
        }

        long position() {
            return pos;
        }

        private long take(long n, String what) {
            if (n < 0 || pos + n > seg.byteSize() || pos + n < pos) {
                throw new ModelFormatException(path + ": truncated GGUF file (" + what + " at byte " + pos
                        + " runs past the end, " + seg.byteSize() + " bytes)");
            }
            long at = pos;
            pos += n;
            return at;
        }

        int u8() {
            return seg.get(ValueLayout.JAVA_BYTE, take(1, "u8")) & 0xFF;
        }

        int u16() {
            return seg.get(U16, take(2, "u16")) & 0xFFFF;
        }

        int u32() {
            return seg.get(U32, take(4, "u32"));
        }

        long u64() {
            return seg.get(U64, take(8, "u64"));
        }

        long count(String what, int minBytesEach) {
            long n = u64();
            if (n < 0 || n > (seg.byteSize() - pos) / minBytesEach) {
                throw new ModelFormatException(path + ": implausible " + what + " " + Long.toUnsignedString(n)
                        + " for a file of " + seg.byteSize() + " bytes — truncated or corrupt GGUF header");
            }
            return n;
        }

        String string() {
            long len = u64();
            if (len < 0 || len > seg.byteSize() - pos || len > Integer.MAX_VALUE - 8) {
                throw new ModelFormatException(path + ": string of length " + Long.toUnsignedString(len)
                        + " at byte " + (pos - 8) + " runs past the end of the file — corrupt or truncated GGUF");
            }
            long at = take(len, "string");
            byte[] bytes = seg.asSlice(at, len).toArray(ValueLayout.JAVA_BYTE);
            return new String(bytes, StandardCharsets.UTF_8);
        }

        GGUFValueType valueType(String key) {
            int id = u32();
            GGUFValueType t = GGUFValueType.byId(id);
            if (t == null) {
                throw new ModelFormatException(path + ": metadata " + key + " has unknown value type " + id);
            }
            return t;
        }

        Object value(GGUFValueType type, String key) {
            return switch (type) {
                case UINT8 -> u8();
                case INT8 -> (int) (byte) u8();
                case UINT16 -> u16();
                case INT16 -> (int) (short) u16();
                case UINT32 -> Integer.toUnsignedLong(u32());
                case INT32 -> u32();
                case FLOAT32 -> Float.intBitsToFloat(u32());
                case BOOL -> u8() != 0;
                case STRING -> string();
                case UINT64, INT64 -> u64();
                case FLOAT64 -> Double.longBitsToDouble(u64());
                case ARRAY -> array(key);
            };
        }

        GGUFArray array(String key) {
            GGUFValueType elem = valueType(key);
            long n = u64();
            int minSize = elem.scalarSize() > 0 ? elem.scalarSize() : 8;
            if (n < 0 || n > (seg.byteSize() - pos) / minSize || n > Integer.MAX_VALUE - 8) {
                throw new ModelFormatException(path + ": metadata array " + key + " claims " + Long.toUnsignedString(n)
                        + " elements, more than the file holds — corrupt or truncated GGUF");
            }
            int len = (int) n;
            Object values = switch (elem) {
                case UINT8, INT8, UINT16, INT16, INT32 -> {
                    int[] a = new int[len];
                    for (int i = 0; i < len; i++) {
                        a[i] = (Integer) value(elem, key);
                    }
                    yield a;
                }
                case UINT32, UINT64, INT64 -> {
                    long[] a = new long[len];
                    for (int i = 0; i < len; i++) {
                        a[i] = (Long) value(elem, key);
                    }
                    yield a;
                }
                case FLOAT32 -> {
                    float[] a = new float[len];
                    for (int i = 0; i < len; i++) {
                        a[i] = Float.intBitsToFloat(u32());
                    }
                    yield a;
                }
                case FLOAT64 -> {
                    double[] a = new double[len];
                    for (int i = 0; i < len; i++) {
                        a[i] = Double.longBitsToDouble(u64());
                    }
                    yield a;
                }
                case BOOL -> {
                    boolean[] a = new boolean[len];
                    for (int i = 0; i < len; i++) {
                        a[i] = u8() != 0;
                    }
                    yield a;
                }
                case STRING -> {
                    String[] a = new String[len];
                    for (int i = 0; i < len; i++) {
                        a[i] = string();
                    }
                    yield a;
                }
                case ARRAY -> {
                    GGUFArray[] a = new GGUFArray[len];
                    for (int i = 0; i < len; i++) {
                        a[i] = array(key);
                    }
                    yield a;
                }
            };
            return new GGUFArray(elem, values);
        }
    }
}
