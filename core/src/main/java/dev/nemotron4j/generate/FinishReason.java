package dev.nemotron4j.generate;

/** Why a generation ended. {@link #wireName()} is the OpenAI-style string used by the CLI and the server. */
public enum FinishReason {
    /** End-of-sequence or end-of-turn token, or a stop string. */
    STOP("stop"),
    /** The requested maximum number of tokens was generated. */
    LENGTH("length"),
    /** The sequence filled the context window. */
    CONTEXT_FULL("context_full"),
    /** The caller cancelled it. */
    CANCELLED("cancelled");

    private final String wireName;

    FinishReason(String wireName) {
        this.wireName = wireName;
    }

    public String wireName() {
        return wireName;
    }
}
