package dev.nemotron4j.model;

import java.nio.file.Path;

/**
 * What became of the {@link LoadOptions#weightCache() weight cache} in one load.
 *
 * @param state  {@code OFF}: no cache asked for, or nothing to cache; {@code MAPPED}: the matrices came from the cache;
 *               {@code BUILT}: they were made and saved for next time; {@code UNAVAILABLE}: made, but not saved
 * @param file   the cache file, or null when none was used
 * @param detail one line for the user
 */
public record WeightCacheStatus(State state, Path file, String detail) {
    public enum State { OFF, MAPPED, BUILT, UNAVAILABLE }
}
