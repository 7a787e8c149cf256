package dev.nemotron4j.server;

import dev.nemotron4j.InvalidInputException;

/**
 * How the server listens and schedules.
 *
 * @param modelId      the model name clients send and {@code /v1/models} lists
 * @param apiKey       required as {@code Authorization: Bearer <key>} when not null
 * @param parallel     sequences decoded together in one batched forward pass
 * @param maxQueue     requests that may wait for a free slot; more are refused with 429
 * @param maxBodyBytes larger request bodies are refused with 413
 */
public record ServerConfig(String host, int port, String modelId, String apiKey, int parallel, int maxQueue,
                           long maxBodyBytes) {
    public static final long DEFAULT_MAX_BODY_BYTES = 8L << 20;

    public ServerConfig {
        if (port < 0 || port > 65535) {
            throw new InvalidInputException("port must be between 0 and 65535, got " + port);
        }
        if (parallel < 1) {
            throw new InvalidInputException("parallel must be >= 1, got " + parallel);
        }
        if (maxQueue < 0) {
            throw new InvalidInputException("max queue must be >= 0, got " + maxQueue);
        }
        if (maxBodyBytes < 1) {
            throw new InvalidInputException("max body must be at least 1 byte, got " + maxBodyBytes);
        }
    }
}
