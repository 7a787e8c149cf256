package dev.nemotron4j.model;

import com.fasterxml.jackson.databind.JsonNode;
import dev.nemotron4j.formats.ModelFormatException;

/** Typed reads of HF config.json values, with errors that name the key. */
final class HfConfigReader {
    private final JsonNode config;

    HfConfigReader(JsonNode config) {
        this.config = config;
    }

    int requireInt(String key) {
        JsonNode n = config.get(key);
        if (n == null || !n.canConvertToInt() || !n.isIntegralNumber()) {
            throw new ModelFormatException("config.json: '" + key + "' is missing or not an integer");
        }
        int v = n.intValue();
        if (v <= 0) {
            throw new ModelFormatException("config.json: '" + key + "' must be positive, got " + v);
        }
        return v;
    }

    int intOr(String key, int fallback) {
        JsonNode n = config.get(key);
        return n == null || n.isNull() ? fallback : requireInt(key);
    }

    /** The first present key of {@code keys}, else {@code fallback}. */
    double numberOr(double fallback, String... keys) {
        for (String key : keys) {
            JsonNode n = config.get(key);
            if (n != null && !n.isNull()) {
                if (!n.isNumber()) {
                    throw new ModelFormatException("config.json: '" + key + "' is not a number");
                }
                return n.doubleValue();
            }
        }
        return fallback;
    }

    String textOr(String key, String fallback) {
        JsonNode n = config.get(key);
        return n == null || n.isNull() ? fallback : n.asText();
    }

    /** bos/eos ids may be a number or a list (the first is used); -1 when absent. */
    int tokenId(String key) {
        JsonNode n = config.get(key);
        if (n != null && n.isArray() && !n.isEmpty()) {
            n = n.get(0);
        }
        return n != null && n.isIntegralNumber() ? n.intValue() : -1;
    }

    boolean isNullOrAbsent(String key) {
        JsonNode n = config.get(key);
        return n == null || n.isNull();
    }
}
