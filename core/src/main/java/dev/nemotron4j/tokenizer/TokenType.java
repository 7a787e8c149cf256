package dev.nemotron4j.tokenizer;

/** Token kinds shared by SentencePiece ({@code ModelProto.SentencePiece.Type}) and GGUF {@code tokenizer.ggml.token_type}. */
public enum TokenType {
    NORMAL, UNKNOWN, CONTROL, USER_DEFINED, UNUSED, BYTE;

    /** Maps the numeric code used by both formats (1..6; 0 = undefined, treated as normal). */
    public static TokenType fromCode(int code) {
        return switch (code) {
            case 0, 1 -> NORMAL;
            case 2 -> UNKNOWN;
            case 3 -> CONTROL;
            case 4 -> USER_DEFINED;
            case 5 -> UNUSED;
            case 6 -> BYTE;
            default -> throw new TokenizerException("unknown token type code " + code);
        };
    }
}
