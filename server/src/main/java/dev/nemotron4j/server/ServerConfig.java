package dev.nemotron4j.server;

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
        if (parallel < 1) {
            throw new IllegalArgumentException("parallel must be >= 1, got " + parallel);
        }
        if (maxQueue < 0) {
            throw new IllegalArgumentException("max queue must be >= 0, got " + maxQueue);
        }
    }
}
