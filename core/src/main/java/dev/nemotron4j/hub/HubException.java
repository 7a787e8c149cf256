package dev.nemotron4j.hub;

import dev.nemotron4j.Nemotron4jException;

/**
 * A model could not be resolved or downloaded from the Hugging Face Hub: unreachable endpoint, unknown or gated model,
 * unknown revision, failed write to the cache, corrupt download, or nothing cached while offline.
 */
public class HubException extends Nemotron4jException {
    public HubException(String message) {
        super(message);
    }

    public HubException(String message, Throwable cause) {
        super(message, cause);
    }
}
