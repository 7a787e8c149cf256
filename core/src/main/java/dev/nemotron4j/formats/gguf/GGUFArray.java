package dev.nemotron4j.formats.gguf;

import java.lang.reflect.Array;

/**
 * A GGUF metadata array. {@code values} is a Java array: {@code int[]} for 8/16-bit and INT32 elements,
 * {@code long[]} for UINT32/INT64/UINT64, {@code float[]}, {@code double[]}, {@code boolean[]}, {@code String[]}, or
 * {@code GGUFArray[]} for nested arrays.
 */
public record GGUFArray(GGUFValueType elementType, Object values) {
    public int length() {
        return Array.getLength(values);
    }
}
