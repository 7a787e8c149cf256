package dev.nemotron4j.formats.safetensors;

import dev.nemotron4j.formats.ShardedModelFile;

import java.nio.file.Path;

/** A safetensors checkpoint split into shards by a {@code model.safetensors.index.json}. */
public final class ShardedSafetensors extends ShardedModelFile {
    private ShardedSafetensors(Path indexPath) {
        super(indexPath, SafetensorsFile::open);
    }

    /** Opens the index and every shard it names; the caller closes it. */
    public static ShardedSafetensors open(Path indexPath) {
        return new ShardedSafetensors(indexPath);
    }
}
