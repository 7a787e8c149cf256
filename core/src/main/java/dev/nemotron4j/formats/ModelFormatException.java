package dev.nemotron4j.formats;

import dev.nemotron4j.Nemotron4jException;

/** A model file that cannot be read: corrupt, truncated, of an unsupported kind, or inconsistent with its config. */
public class ModelFormatException extends Nemotron4jException {
    public ModelFormatException(String message) {
        super(message);
    }

    public ModelFormatException(String message, Throwable cause) {
        super(message, cause);
    }
}
