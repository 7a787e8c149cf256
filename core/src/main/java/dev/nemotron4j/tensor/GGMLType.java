package dev.nemotron4j.tensor;

/**
 * Element types of GGUF tensors, with ggml's numeric ids. A type is stored as blocks of {@code blockSize} elements taking
 * {@code typeSize} bytes. Only the types the engine can compute with are {@link #supported}; the others exist so that an
 * unsupported file is refused with the type's name rather than a number.
 */
public enum GGMLType {
    F32(0, 1, 4, true),
    F16(1, 1, 2, true),
    Q4_0(2, 32, 18, true),
    Q4_1(3, 32, 20, true),
    Q5_0(6, 32, 22, true),
    Q5_1(7, 32, 24, true),
    Q8_0(8, 32, 34, true),
    Q8_1(9, 32, 36, false),
    Q2_K(10, 256, 84, false),
    Q3_K(11, 256, 110, false),
    Q4_K(12, 256, 144, true),
    Q5_K(13, 256, 176, true),
    Q6_K(14, 256, 210, true),
    Q8_K(15, 256, 292, false),
    IQ2_XXS(16, 256, 66, false),
    IQ2_XS(17, 256, 74, false),
    IQ3_XXS(18, 256, 98, false),
    IQ1_S(19, 256, 50, false),
    IQ4_NL(20, 32, 18, false),
    IQ3_S(21, 256, 110, false),
    IQ2_S(22, 256, 82, false),
    IQ4_XS(23, 256, 136, false),
    I8(24, 1, 1, false),
    I16(25, 1, 2, false),
    I32(26, 1, 4, false),
    I64(27, 1, 8, false),
    F64(28, 1, 8, false),
    IQ1_M(29, 256, 56, false),
    BF16(30, 1, 2, true),
    TQ1_0(34, 256, 54, false),
    TQ2_0(35, 256, 66, false),
    MXFP4(39, 32, 17, false);

    public final int id;
    public final int blockSize;
    public final int typeSize;
    public final boolean supported;

    GGMLType(int id, int blockSize, int typeSize, boolean supported) {
        this.id = id;
        this.blockSize = blockSize;
        this.typeSize = typeSize;
        this.supported = supported;
    }

    /** The type with this ggml id, or null when the id is not a known ggml type. */
    public static GGMLType byId(int id) {
        for (GGMLType t : values()) {
            if (t.id == id) {
                return t;
            }
        }
        return null;
    }

    /** Bytes taken by {@code elements} elements; elements must be a whole number of blocks. */
    public long byteSize(long elements) {
        return elements / blockSize * typeSize;
    }
}
