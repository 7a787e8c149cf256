package dev.nemotron4j.generate;

/** Receives a generation as it happens. Text arrives in pieces that are final: whole UTF-8 characters, no part of a
 * stop string, no control tokens. */
@FunctionalInterface
public interface GenerationListener {

    void onText(String text);

    /** Each generated token, with its log-probability when those were asked for (else null). */
    default void onToken(int token, TokenLogprob logprob) {
    }

    GenerationListener NONE = text -> { };
}
