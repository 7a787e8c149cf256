package dev.nemotron4j.model;

/**
 * Keys and values of every layer for the positions of one sequence, [layer][position · kvDim + i]. Positions below
 * {@link #length()} are filled; the forward pass appends.
 */
public final class KvCache {
    final float[][] keys;
    final float[][] values;
    private final int capacity;
    private final int kvDim;
    private int length;

    public KvCache(ModelConfig config, int capacity) {
        this.capacity = capacity;
        this.kvDim = config.kvDim();
        keys = new float[config.layers()][Math.multiplyExact(capacity, kvDim)];
        values = new float[config.layers()][Math.multiplyExact(capacity, kvDim)];
    }

    /** Positions held. */
    public int length() {
        return length;
    }

    public int capacity() {
        return capacity;
    }

    /** Forgets positions from {@code newLength} on, e.g. to reuse a shared prompt prefix or to start over. */
    public void truncate(int newLength) {
        if (newLength < 0 || newLength > length) {
            throw new IllegalArgumentException("cannot truncate a cache of " + length + " positions to " + newLength);
        }
        length = newLength;
    }

    void advance(int n) {
        length += n;
    }

    int kvDim() {
        return kvDim;
    }
}
