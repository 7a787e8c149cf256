package dev.nemotron4j.server;

import dev.nemotron4j.InvalidInputException;
import dev.nemotron4j.Nemotron4jException;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Settings the server cannot start with are one-line errors, before anything listens or loads. */
class ServerStartupTest {

    @Test
    void invalidSettingsAreRefused() {
        assertTrue(assertThrows(InvalidInputException.class,
                () -> new ServerConfig("127.0.0.1", 70000, "m", null, 1, 0, 1)).getMessage().contains("70000"));
        assertTrue(assertThrows(InvalidInputException.class,
                () -> new ServerConfig("127.0.0.1", 0, "m", null, 0, 0, 1)).getMessage().contains("parallel"));
        assertTrue(assertThrows(InvalidInputException.class,
                () -> new ServerConfig("127.0.0.1", 0, "m", null, 1, -1, 1)).getMessage().contains("queue"));
    }

    @Test
    void aPortInUseIsNamed() throws IOException {
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            ServerConfig config = new ServerConfig("127.0.0.1", taken.getLocalPort(), "m", null, 1, 0, 1024);
            Nemotron4jException e = assertThrows(Nemotron4jException.class, () -> OpenAiServer.start(config,
                    () -> {
                        throw new AssertionError("the model must not be loaded");
                    }, line -> { }));
            assertTrue(e.getMessage().contains("127.0.0.1:" + taken.getLocalPort()), e.getMessage());
        }
    }
}
