package dev.nemotron4j.formats.safetensors;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.nemotron4j.formats.MappedFile;
import dev.nemotron4j.formats.ModelFile;
import dev.nemotron4j.formats.ModelFormatException;
import dev.nemotron4j.formats.TensorEntry;
import dev.nemotron4j.tensor.GGMLType;

import java.io.IOException;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * One {@code .safetensors} file, memory-mapped. Layout: u64 little-endian header length N; N bytes of UTF-8 JSON
 * (an object: {@code "__metadata__"} with string values, then per tensor {@code {"dtype", "shape", "data_offsets":
 * [begin, end]}}, possibly space-padded); then the data area, with each tensor's bytes at {@code [begin, end)} relative
 * to its start, little-endian, row-major. Only F32/F16/BF16 tensors are accepted: the models ship no other dtype.
 */
public final class SafetensorsFile implements ModelFile {
    /** Same limit as the reference implementation; a larger header means a corrupt or hostile file. */
    private static final long MAX_HEADER = 100L << 20;
    private static final ValueLayout.OfLong U64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ObjectMapper JSON = new ObjectMapper()
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);
    /** dtypes of the safetensors spec that the engine cannot use; named so the error says "unsupported". */
    private static final Set<String> OTHER_DTYPES = Set.of("F64", "I64", "U64", "I32", "U32", "I16", "U16", "I8", "U8",
            "BOOL", "F8_E4M3", "F8_E5M2", "F8_E8M0", "F6_E2M3", "F6_E3M2", "F4", "C64");

    private final MappedFile file;
    private final Map<String, TensorEntry> tensors;

    private SafetensorsFile(MappedFile file) {
        this.file = file;
        long size = file.size();
        if (size < 8) {
            throw error("file of " + size + " bytes is too short for a safetensors header");
        }
        long headerLen = file.segment().get(U64, 0);
        if (headerLen < 2 || headerLen > MAX_HEADER || headerLen > size - 8) {
            throw error("header length " + Long.toUnsignedString(headerLen) + " is invalid (file has " + size
                    + " bytes, limit " + MAX_HEADER + ") — not a safetensors file, or truncated");
        }
        byte[] headerBytes = file.segment().asSlice(8, headerLen).toArray(ValueLayout.JAVA_BYTE);
        JsonNode header;
        try {
            header = JSON.readTree(headerBytes);
        } catch (JsonProcessingException e) {
            throw error("header is not valid JSON: " + e.getOriginalMessage());
        } catch (IOException e) {
            throw error("cannot parse header: " + e.getMessage());
        }
        if (header == null || !header.isObject()) {
            throw error("header is not a JSON object");
        }
        long dataStart = 8 + headerLen;
        long dataSize = size - dataStart;
        List<Parsed> parsed = new ArrayList<>();
        for (Map.Entry<String, JsonNode> field : header.properties()) {
            if (!field.getKey().equals("__metadata__")) {
                parsed.add(parse(field.getKey(), field.getValue(), dataSize));
            }
        }
        // File order is data order; checking neighbours in that order also finds overlaps.
        parsed.sort(Comparator.comparingLong(Parsed::begin));
        Map<String, TensorEntry> ts = new LinkedHashMap<>();
        long previousEnd = 0;
        String previousName = null;
        for (Parsed p : parsed) {
            if (p.begin < previousEnd) {
                throw error("tensor '" + p.name + "' data [" + p.begin + ", " + p.end + ") overlaps tensor '"
                        + previousName + "'");
            }
            previousEnd = p.end;
            previousName = p.name;
            ts.put(p.name, new TensorEntry(p.name, p.type, p.shape,
                    file.segment().asSlice(dataStart + p.begin, p.end - p.begin)));
        }
        tensors = Collections.unmodifiableMap(ts);
    }

    private record Parsed(String name, GGMLType type, long[] shape, long begin, long end) {}

    private Parsed parse(String name, JsonNode info, long dataSize) {
        if (!info.isObject()) {
            throw error("entry for tensor '" + name + "' is not an object");
        }
        JsonNode dtypeNode = info.get("dtype");
        if (dtypeNode == null || !dtypeNode.isTextual()) {
            throw error("tensor '" + name + "' has no dtype");
        }
        String dtype = dtypeNode.asText();
        GGMLType type = switch (dtype) {
            case "F32" -> GGMLType.F32;
            case "F16" -> GGMLType.F16;
            case "BF16" -> GGMLType.BF16;
            default -> throw error("tensor '" + name + "' has " + (OTHER_DTYPES.contains(dtype) ? "unsupported" : "unknown")
                    + " dtype " + dtype + " (supported: F32, F16, BF16)");
        };
        JsonNode shapeNode = info.get("shape");
        if (shapeNode == null || !shapeNode.isArray()) {
            throw error("tensor '" + name + "' has no shape array");
        }
        long[] shape = new long[shapeNode.size()];
        long elements = 1;
        for (int i = 0; i < shape.length; i++) {
            JsonNode d = shapeNode.get(i);
            if (!d.canConvertToLong() || !d.isIntegralNumber() || d.asLong() < 0) {
                throw error("tensor '" + name + "' has invalid dimension " + d);
            }
            shape[i] = d.asLong();
            elements = multiply(elements, shape[i], name);
        }
        JsonNode offsets = info.get("data_offsets");
        if (offsets == null || !offsets.isArray() || offsets.size() != 2
                || !offsets.get(0).isIntegralNumber() || !offsets.get(1).isIntegralNumber()
                || !offsets.get(0).canConvertToLong() || !offsets.get(1).canConvertToLong()) {
            throw error("tensor '" + name + "' has no valid data_offsets [begin, end]");
        }
        long begin = offsets.get(0).asLong();
        long end = offsets.get(1).asLong();
        if (begin < 0 || end < begin || end > dataSize) {
            throw error("tensor '" + name + "' data_offsets [" + begin + ", " + end + "] lie outside the data area of "
                    + dataSize + " bytes — truncated or corrupt");
        }
        long expected = multiply(elements, type.typeSize, name);
        if (end - begin != expected) {
            throw error("tensor '" + name + "' of shape " + shapeNode + " and dtype " + dtype + " needs " + expected
                    + " bytes but data_offsets span " + (end - begin));
        }
        return new Parsed(name, type, shape, begin, end);
    }

    private long multiply(long a, long b, String name) {
        try {
            return Math.multiplyExact(a, b);
        } catch (ArithmeticException e) {
            throw error("tensor '" + name + "' is too large (size overflows 64 bits)");
        }
    }

    private ModelFormatException error(String problem) {
        return new ModelFormatException(file.path() + ": " + problem);
    }

    /** Maps and parses {@code path}; the caller closes it. */
    public static SafetensorsFile open(Path path) {
        MappedFile file = MappedFile.open(path);
        try {
            return new SafetensorsFile(file);
        } catch (RuntimeException e) {
            file.close();
            throw e;
        }
    }

    @Override
    public Path path() {
        return file.path();
    }

    @Override
    public Map<String, TensorEntry> tensors() {
        return tensors;
    }

    @Override
    public void close() {
        file.close();
    }
}
