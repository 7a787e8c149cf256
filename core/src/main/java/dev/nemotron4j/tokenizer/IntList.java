package dev.nemotron4j.tokenizer;

import java.util.Arrays;

/** Growable int array, to collect ids without boxing. */
final class IntList {
    private int[] data = new int[16];
    private int size;

    void add(int v) {
        if (size == data.length) {
            data = Arrays.copyOf(data, size * 2);
        }
        data[size++] = v;
    }

    int size() {
        return size;
    }

    int[] toArray() {
        return Arrays.copyOf(data, size);
    }
}
