package dev.nemotron4j.server;

import com.fasterxml.jackson.databind.JsonNode;

import java.util.ArrayList;
import java.util.List;

/** Typed reads of optional request fields; a wrong type is a 400 naming the field. Null counts as absent. */
final class RequestFields {
    private final JsonNode body;

    RequestFields(JsonNode body) {
        this.body = body;
    }

    JsonNode node(String field) {
        JsonNode value = body.get(field);
        return value == null || value.isNull() ? null : value;
    }

    boolean has(String field) {
        return node(field) != null;
    }

    Double number(String field, double min, double max) {
        JsonNode value = node(field);
        if (value == null) {
            return null;
        }
        if (!value.isNumber()) {
            throw ApiException.invalid("'" + field + "' must be a number", field);
        }
        double v = value.asDouble();
        if (!(v >= min && v <= max)) {
            throw ApiException.invalid("'" + field + "' must be between " + min + " and " + max + ", got " + v, field);
        }
        return v;
    }

    Long integer(String field, long min, long max) {
        JsonNode value = node(field);
        if (value == null) {
            return null;
        }
        if (!value.isIntegralNumber() || !value.canConvertToLong()) {
            throw ApiException.invalid("'" + field + "' must be an integer", field);
        }
        long v = value.asLong();
        if (v < min || v > max) {
            throw ApiException.invalid("'" + field + "' must be between " + min + " and " + max + ", got " + v, field);
        }
        return v;
    }

    boolean bool(String field) {
        JsonNode value = node(field);
        if (value == null) {
            return false;
        }
        if (!value.isBoolean()) {
            throw ApiException.invalid("'" + field + "' must be true or false", field);
        }
        return value.asBoolean();
    }

    String text(String field) {
        JsonNode value = node(field);
        if (value == null) {
            return null;
        }
        if (!value.isTextual()) {
            throw ApiException.invalid("'" + field + "' must be a string", field);
        }
        return value.asText();
    }

    JsonNode object(String field) {
        JsonNode value = node(field);
        if (value != null && !value.isObject()) {
            throw ApiException.invalid("'" + field + "' must be an object", field);
        }
        return value;
    }

    /** {@code stop}: a string or an array of up to 4 strings (as OpenAI allows). */
    List<String> stops() {
        JsonNode value = node("stop");
        if (value == null) {
            return List.of();
        }
        if (value.isTextual()) {
            return List.of(value.asText());
        }
        if (!value.isArray() || value.size() > 4) {
            throw ApiException.invalid("'stop' must be a string or an array of at most 4 strings", "stop");
        }
        List<String> stops = new ArrayList<>();
        for (JsonNode s : value) {
            if (!s.isTextual()) {
                throw ApiException.invalid("'stop' must be a string or an array of at most 4 strings", "stop");
            }
            stops.add(s.asText());
        }
        return stops;
    }
}
