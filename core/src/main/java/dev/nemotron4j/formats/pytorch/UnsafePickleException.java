package dev.nemotron4j.formats.pytorch;

import dev.nemotron4j.formats.ModelFormatException;

/** A pickle that names a global outside the loader's whitelist: it might run code, so it is refused unread. */
public class UnsafePickleException extends ModelFormatException {
    public UnsafePickleException(String message) {
        super(message);
    }
}
