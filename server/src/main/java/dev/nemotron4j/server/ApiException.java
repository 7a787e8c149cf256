package dev.nemotron4j.server;

import dev.nemotron4j.Nemotron4jException;

/**
 * A request the server answers with an OpenAI-shaped error: {@code {"error": {"message", "type", "param", "code"}}}.
 *
 * @param param the request field at fault, or null
 * @param code  a machine-readable code such as {@code context_length_exceeded}, or null
 */
public final class ApiException extends Nemotron4jException {
    private final int status;
    private final String type;
    private final String param;
    private final String code;

    public ApiException(int status, String type, String message, String param, String code) {
        super(message);
        this.status = status;
        this.type = type;
        this.param = param;
        this.code = code;
    }

    public static ApiException invalid(String message, String param) {
        return new ApiException(400, "invalid_request_error", message, param, null);
    }

    public int status() {
        return status;
    }

    public String type() {
        return type;
    }

    public String param() {
        return param;
    }

    public String code() {
        return code;
    }
}
