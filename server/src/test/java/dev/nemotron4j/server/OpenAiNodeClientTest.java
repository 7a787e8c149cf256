package dev.nemotron4j.server;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Runs {@code src/test/js/openai-client.mjs} (the openai npm package) with node against live servers. */
class OpenAiNodeClientTest {

    @Test
    void officialOpenAiClient() throws Exception {
        Path dir = Path.of("src/test/js").toAbsolutePath();
        Assumptions.assumeTrue(Files.isDirectory(dir.resolve("node_modules/openai")),
                "skipped: run 'npm ci' in server/src/test/js first (.ci/run does) to install the openai client");
        try (LiveServer greeting = LiveServer.start(LiveServer.scripted("greeting"));
             LiveServer tools = LiveServer.start(LiveServer.scripted("toolcall-two"));
             LiveServer sampled = LiveServer.start(LiveServer.goldenTiny(), 2, 4, null, 256)) {
            ProcessBuilder node = new ProcessBuilder("node", "openai-client.mjs").directory(dir.toFile())
                    .redirectErrorStream(true);
            node.environment().put("GREETING_URL", greeting.server.url());
            node.environment().put("TOOLS_URL", tools.server.url());
            node.environment().put("SAMPLED_URL", sampled.server.url());
            Process process;
            try {
                process = node.start();
            } catch (IOException e) {
                Assumptions.abort("skipped: node is not installed (" + e.getMessage() + ")");
                return;
            }
            boolean finished = process.waitFor(60, TimeUnit.SECONDS);
            String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!finished) {
                process.destroyForcibly();
            }
            assertTrue(finished, "node did not finish in 60 s:\n" + output);
            assertEquals(0, process.exitValue(), output);
            assertTrue(output.contains("all openai client checks passed"), output);
        }
    }
}
