package dev.nemotron4j.tokenizer;

import dev.nemotron4j.Nemotron4jException;

/** A malformed or unsupported tokenizer file, an unknown token id, or text that is not valid UTF-8. */
public class TokenizerException extends Nemotron4jException {
    public TokenizerException(String message) {
        super(message);
    }

    public TokenizerException(String message, Throwable cause) {
        super(message, cause);
    }
}
