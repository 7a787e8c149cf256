package dev.nemotron4j.formats.pytorch;

import dev.nemotron4j.formats.MappedFile;
import dev.nemotron4j.formats.ModelFile;
import dev.nemotron4j.formats.ModelFormatException;
import dev.nemotron4j.formats.ShardedModelFile;
import dev.nemotron4j.formats.TensorEntry;
import dev.nemotron4j.formats.pytorch.RestrictedUnpickler.PickledTensor;
import dev.nemotron4j.formats.pytorch.RestrictedUnpickler.StorageRef;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A {@code pytorch_model.bin} written by {@code torch.save} (the zip format, torch ≥ 1.6), memory-mapped. The zip holds,
 * under one top-level folder (the file stem for torch 1.x, {@code archive} for newer torch): {@code data.pkl}, the
 * pickled state dict {name: tensor}, each tensor a {@code _rebuild_tensor_v2} of a storage named by a persistent id;
 * {@code data/<key>}, each storage's raw little-endian bytes; {@code version}; and optionally {@code byteorder}. The
 * pickle is read by {@link RestrictedUnpickler}, which executes nothing; tensors are slices of the storage entries.
 */
public final class PyTorchCheckpoint implements ModelFile {
    private final MappedFile file;
    private final Map<String, TensorEntry> tensors;

    private PyTorchCheckpoint(MappedFile file) {
        this.file = file;
        Map<String, MemorySegment> entries = new ZipArchive(file.segment(), file.path()).entries();
        String prefix = archivePrefix(entries);
        MemorySegment byteorder = entries.get(prefix + "byteorder");
        if (byteorder != null) {
            String order = new String(byteorder.toArray(ValueLayout.JAVA_BYTE), StandardCharsets.US_ASCII).strip();
            if (!order.equals("little")) {
                throw error("storages are " + order + "-endian; only little-endian checkpoints are supported");
            }
        }
        Object root = RestrictedUnpickler.load(entries.get(prefix + "data.pkl"), file.path() + "!" + prefix + "data.pkl");
        if (!(root instanceof Map<?, ?> stateDict)) {
            throw error("data.pkl holds a " + (root == null ? "None" : root.getClass().getSimpleName())
                    + ", not a state dict of name -> tensor");
        }
        Map<String, TensorEntry> ts = new LinkedHashMap<>();
        for (Map.Entry<?, ?> e : stateDict.entrySet()) {
            if (!(e.getKey() instanceof String name)) {
                throw error("state dict key " + e.getKey() + " is not a string");
            }
            if (!(e.getValue() instanceof PickledTensor t)) {
                throw error("state dict entry '" + name + "' is not a tensor");
            }
            ts.put(name, new TensorEntry(name, t.storage().type(), t.shape(), slice(entries, prefix, name, t)));
        }
        tensors = Collections.unmodifiableMap(ts);
    }

    /** The single top-level folder holding {@code data.pkl}, with its trailing slash. */
    private String archivePrefix(Map<String, MemorySegment> entries) {
        List<String> prefixes = new ArrayList<>();
        for (String name : entries.keySet()) {
            int slash = name.indexOf('/');
            if (slash > 0 && name.substring(slash + 1).equals("data.pkl")) {
                prefixes.add(name.substring(0, slash + 1));
            }
        }
        if (prefixes.isEmpty()) {
            throw error("no <folder>/data.pkl entry — not a torch.save checkpoint");
        }
        if (prefixes.size() > 1) {
            throw error("several data.pkl entries " + prefixes + " — ambiguous checkpoint");
        }
        return prefixes.getFirst();
    }

    private MemorySegment slice(Map<String, MemorySegment> entries, String prefix, String name, PickledTensor t) {
        StorageRef s = t.storage();
        MemorySegment storage = entries.get(prefix + "data/" + s.key());
        if (storage == null) {
            throw error("tensor '" + name + "' refers to storage " + prefix + "data/" + s.key() + ", absent from the zip");
        }
        long itemSize = s.type().typeSize;
        if (s.numel() > storage.byteSize() / itemSize) {
            throw error("storage data/" + s.key() + " should hold " + s.numel() + " " + s.type() + " elements but has "
                    + storage.byteSize() + " bytes");
        }
        return storage.asSlice(t.offset() * itemSize, t.elementCount() * itemSize);
    }

    private ModelFormatException error(String problem) {
        return new ModelFormatException(file.path() + ": " + problem);
    }

    /** Maps and parses {@code path}; the caller closes it. */
    public static PyTorchCheckpoint open(Path path) {
        MappedFile file = MappedFile.open(path);
        try {
            return new PyTorchCheckpoint(file);
        } catch (RuntimeException e) {
            file.close();
            throw e;
        }
    }

    /** A checkpoint split by a {@code pytorch_model.bin.index.json}; the caller closes it. */
    public static ShardedModelFile openSharded(Path indexPath) {
        return ShardedModelFile.open(indexPath, PyTorchCheckpoint::open);
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
