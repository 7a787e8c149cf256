package dev.nemotron4j.hub;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The same environment variables as huggingface_hub, with the same precedence. */
class HubSettingsTest {
    @TempDir
    Path home;

    @Test
    void defaults() {
        HubSettings s = HubSettings.fromEnvironment(Map.of(), home);
        assertEquals("https://huggingface.co", s.endpoint());
        assertEquals(home.resolve(".cache/huggingface/hub"), s.cacheDir());
        assertNull(s.token());
        assertFalse(s.offline());
    }

    @Test
    void cacheLocation() {
        assertEquals(Path.of("/x/huggingface/hub"),
                HubSettings.fromEnvironment(Map.of("XDG_CACHE_HOME", "/x"), home).cacheDir());
        assertEquals(Path.of("/hf/hub"), HubSettings.fromEnvironment(Map.of("HF_HOME", "/hf", "XDG_CACHE_HOME", "/x"),
                home).cacheDir());
        assertEquals(Path.of("/c"), HubSettings.fromEnvironment(Map.of("HF_HOME", "/hf", "HF_HUB_CACHE", "/c"),
                home).cacheDir());
    }

    @Test
    void tokenFromVariableOrLoginFile() throws IOException {
        Path hfHome = Files.createDirectories(home.resolve("hf"));
        Files.writeString(hfHome.resolve("token"), "hf_from_file\n");
        assertEquals("hf_from_file", HubSettings.fromEnvironment(Map.of("HF_HOME", hfHome.toString()), home).token());
        assertEquals("hf_env", HubSettings.fromEnvironment(
                Map.of("HF_HOME", hfHome.toString(), "HF_TOKEN", "hf_env"), home).token());
        assertFalse(HubSettings.fromEnvironment(Map.of("HF_TOKEN", "hf_env"), home).toString().contains("hf_env"));
    }

    @Test
    void endpointAndOffline() {
        HubSettings s = HubSettings.fromEnvironment(Map.of("HF_ENDPOINT", "https://hf-mirror.com/", "HF_HUB_OFFLINE",
                "1"), home);
        assertEquals("https://hf-mirror.com", s.endpoint());
        assertTrue(s.offline());
        assertTrue(HubSettings.fromEnvironment(Map.of("HF_HUB_OFFLINE", "yes"), home).offline());
        assertFalse(HubSettings.fromEnvironment(Map.of("HF_HUB_OFFLINE", "0"), home).offline());
        assertNull(new HubSettings("http://h", home, "  ", false).token());
    }
}
