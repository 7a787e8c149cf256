package dev.nemotron4j.model;

import dev.nemotron4j.InvalidInputException;
import dev.nemotron4j.kernels.Attention;

import java.util.Locale;

/**
 * Keys and values of every layer for the positions of one sequence: values as rows, [layer][position · kvDim + i],
 * keys transposed in blocks of positions as {@link Attention#keyOffset} lays them out, so that attention reads the
 * positions of one dimension in vectors. As floats, or as half floats ({@link Type#F16}: half the memory, and half
 * the reads of a decoding step at a long context, for a rounding of 2⁻¹¹ relative). Positions below
 * {@link #length()} are filled; the forward pass appends.
 */
public final class KvCache {
    /** How keys and values are stored. */
    public enum Type {
        F32, F16;

        /** {@code f32} or {@code f16}, in any case. */
        public static Type parse(String name) {
            try {
                return valueOf(name.toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw new InvalidInputException("unknown KV cache type '" + name + "' (expected f32 or f16)");
            }
        }
    }

    private final Type type;
    /** The float cache's arrays, null for half floats. */
    final float[][] keys;
    final float[][] values;
    /** The half-float cache's arrays ({@link Float#floatToFloat16} bits), null for floats. */
    final short[][] halfKeys;
    final short[][] halfValues;
    private final int capacity;
    private final int kvDim;
    private final int headDim;
    private final int keyStride;
    private int length;

    public KvCache(ModelConfig config, int capacity, Type type) {
        this.type = type;
        this.capacity = capacity;
        this.kvDim = config.kvDim();
        this.headDim = config.headDim();
        this.keyStride = Attention.keyStride(capacity);
        int keySize = Math.multiplyExact(keyStride, kvDim);
        int valueSize = Math.multiplyExact(capacity, kvDim);
        boolean half = type == Type.F16;
        keys = half ? null : new float[config.layers()][keySize];
        values = half ? null : new float[config.layers()][valueSize];
        halfKeys = half ? new short[config.layers()][keySize] : null;
        halfValues = half ? new short[config.layers()][valueSize] : null;
    }

    public Type type() {
        return type;
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
        if (type == Type.F16) {
            putHalf(layer, position, k, kOffset, v, vOffset);
            return;
        }
        float[] layerKeys = keys[layer];
        for (int h = 0; h < kvDim / headDim; h++) {
            int at = Attention.keyOffset(h, position, headDim, keyStride);
            for (int d = 0; d < headDim; d++) {
                layerKeys[at + d * Attention.KEY_BLOCK] = k[kOffset + h * headDim + d];
            }
        }
        System.arraycopy(v, vOffset, values[layer], position * kvDim, kvDim);
    }

    private void putHalf(int layer, int position, float[] k, int kOffset, float[] v, int vOffset) {
        short[] layerKeys = halfKeys[layer];
        for (int h = 0; h < kvDim / headDim; h++) {
            int at = Attention.halfKeyOffset(h, position, headDim, keyStride);
            for (int d = 0; d < headDim; d++) {
                layerKeys[at + d * Attention.KEY_BLOCK] = Float.floatToFloat16(k[kOffset + h * headDim + d]);
            }
        }
        short[] layerValues = halfValues[layer];
        int row = position * kvDim;
        for (int c = 0; c < kvDim; c++) {
            layerValues[row + Attention.halfValueIndex(c, kvDim)] = Float.floatToFloat16(v[vOffset + c]);
        }
    }
}
