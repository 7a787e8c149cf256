package dev.nemotron4j.model;

import dev.nemotron4j.kernels.Attention;

/**
 * Keys and values of every layer for the positions of one sequence: values as rows, [layer][position · kvDim + i],
 * keys transposed in blocks of positions as {@link Attention#keyOffset} lays them out, so that attention reads the
 * positions of one dimension in vectors. Positions below {@link #length()} are filled; the forward pass appends.
 */
public final class KvCache {
    final float[][] keys;
    final float[][] values;
    private final int capacity;
    private final int kvDim;
    private final int headDim;
    private final int keyStride;
    private int length;

    public KvCache(ModelConfig config, int capacity) {
        this.capacity = capacity;
        this.kvDim = config.kvDim();
        this.headDim = config.headDim();
        this.keyStride = Attention.keyStride(capacity);
        keys = new float[config.layers()][Math.multiplyExact(keyStride, kvDim)];
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

    /** Stores the key and value of {@code position} in layer {@code layer}, from k[kOffset …] and v[vOffset …]. */
    void put(int layer, int position, float[] k, int kOffset, float[] v, int vOffset) {
        float[] layerKeys = keys[layer];
        for (int h = 0; h < kvDim / headDim; h++) {
            int at = Attention.keyOffset(h, position, headDim, keyStride);
            for (int d = 0; d < headDim; d++) {
                layerKeys[at + d * Attention.KEY_BLOCK] = k[kOffset + h * headDim + d];
            }
        }
        System.arraycopy(v, vOffset, values[layer], position * kvDim, kvDim);
    }
}
