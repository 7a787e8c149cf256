package dev.nemotron4j.formats;

import java.nio.file.Path;
import java.util.Map;

/**
 * The tensors of a model as stored on disk, by their names in that file, memory-mapped. Closing it unmaps the files,
 * after which no tensor of it may be used.
 */
public interface ModelFile extends AutoCloseable {

    /** The path the user named (a file, or the folder of a sharded checkpoint). */
    Path path();

    /** Tensors by name, in file order. */
    Map<String, TensorEntry> tensors();

    /** The tensor called {@code name}, or a {@link ModelFormatException} naming it when absent. */
    default TensorEntry tensor(String name) {
        TensorEntry t = tensors().get(name);
        if (t == null) {
            throw new ModelFormatException("tensor '" + name + "' is missing from " + path());
        }
        return t;
    }

    @Override
    void close();
}
