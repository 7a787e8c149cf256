package dev.nemotron4j.hub;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * Where models come from and where they are kept. {@link #fromEnvironment()} reads the same variables as
 * huggingface_hub, so both share one cache and one login.
 *
 * @param endpoint the Hub's base URL, without a trailing slash
 * @param cacheDir the hub cache directory holding {@code models--owner--name} folders
 * @param token    access token sent as {@code Authorization: Bearer}, or null
 * @param offline  never use the network; only the cache
 */
public record HubSettings(String endpoint, Path cacheDir, String token, boolean offline) {
    public static final String DEFAULT_ENDPOINT = "https://huggingface.co";

    private static final Set<String> TRUE = Set.of("1", "ON", "YES", "TRUE");

    public HubSettings {
        Objects.requireNonNull(endpoint, "endpoint");
        Objects.requireNonNull(cacheDir, "cacheDir");
        endpoint = endpoint.strip().replaceAll("/+$", "");
        token = token == null || token.isBlank() ? null : token.strip();
    }

    public static HubSettings fromEnvironment() {
        return fromEnvironment(System.getenv(), Path.of(System.getProperty("user.home")));
    }

    /**
     * Settings from environment variables: {@code HF_ENDPOINT}; {@code HF_HUB_CACHE}, else {@code HF_HOME/hub}, where
     * {@code HF_HOME} defaults to {@code $XDG_CACHE_HOME/huggingface} or {@code ~/.cache/huggingface}; {@code HF_TOKEN},
     * else the file {@code HF_TOKEN_PATH} or {@code HF_HOME/token} written by {@code hf auth login};
     * {@code HF_HUB_OFFLINE}.
     */
    public static HubSettings fromEnvironment(Map<String, String> env, Path userHome) {
        Path hfHome = firstSet(env, "HF_HOME") != null ? Path.of(firstSet(env, "HF_HOME"))
                : (firstSet(env, "XDG_CACHE_HOME") != null ? Path.of(firstSet(env, "XDG_CACHE_HOME"))
                        : userHome.resolve(".cache")).resolve("huggingface");
        String cache = firstSet(env, "HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE");
        String endpoint = firstSet(env, "HF_ENDPOINT");
        String token = firstSet(env, "HF_TOKEN", "HUGGING_FACE_HUB_TOKEN");
        if (token == null) {
            String tokenPath = firstSet(env, "HF_TOKEN_PATH");
            token = readToken(tokenPath != null ? Path.of(tokenPath) : hfHome.resolve("token"));
        }
        String offline = firstSet(env, "HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE");
        return new HubSettings(endpoint != null ? endpoint : DEFAULT_ENDPOINT,
                cache != null ? Path.of(cache) : hfHome.resolve("hub"), token,
                offline != null && TRUE.contains(offline.strip().toUpperCase(Locale.ROOT)));
    }

    public HubSettings withOffline(boolean offline) {
        return new HubSettings(endpoint, cacheDir, token, offline);
    }

    /** Keeps the token out of logs. */
    @Override
    public String toString() {
        return "HubSettings[endpoint=" + endpoint + ", cacheDir=" + cacheDir + ", token=" + (token == null ? "none" : "***")
                + ", offline=" + offline + "]";
    }

    private static String firstSet(Map<String, String> env, String... names) {
        for (String name : names) {
            String value = env.get(name);
            if (value != null && !value.isBlank()) {
                return value.strip();
            }
        }
        return null;
    }

    private static String readToken(Path file) {
        try {
            return Files.isRegularFile(file) ? Files.readString(file).strip() : null;
        } catch (IOException e) {
            return null;
        }
    }
}
