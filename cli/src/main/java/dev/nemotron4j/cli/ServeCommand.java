package dev.nemotron4j.cli;

import dev.nemotron4j.generate.Engine;
import dev.nemotron4j.hub.ModelName;
import dev.nemotron4j.server.OpenAiServer;
import dev.nemotron4j.server.ServerConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;

@Command(name = "serve", mixinStandardHelpOptions = true,
        description = "Run an OpenAI-compatible HTTP server (chat and text completions with streaming and tool "
                + "calls, models, health, metrics, tokenize). Concurrent requests are decoded together.")
final class ServeCommand implements Callable<Integer> {

    @Mixin
    ModelOptions modelOptions;

    @Option(names = "--host", defaultValue = "127.0.0.1", description = "address to listen on (default: ${DEFAULT-VALUE})")
    String host;

    @Option(names = "--port", defaultValue = "8080", description = "port to listen on (default: ${DEFAULT-VALUE})")
    int port;

    @Option(names = "--parallel", defaultValue = "4",
            description = "requests decoded together, each with its own KV cache of --ctx tokens "
                    + "(default: ${DEFAULT-VALUE})")
    int parallel;

    @Option(names = "--max-queue", defaultValue = "64",
            description = "requests that may wait for a free slot; more get 429 (default: ${DEFAULT-VALUE})")
    int maxQueue;

    @Option(names = "--api-key", description = "require 'Authorization: Bearer KEY' (default: no key)")
    String apiKey;

    @Option(names = "--max-body", defaultValue = "8388608",
            description = "largest request body in bytes; larger ones get 413 (default: ${DEFAULT-VALUE})")
    long maxBodyBytes;

    @Override
    public Integer call() throws Exception {
        String model = modelOptions.model;
        String modelId = ModelName.looksLikeName(model) ? model
                : Path.of(model).getFileName().toString().replaceFirst("\\.gguf$", "");
        ServerConfig config = new ServerConfig(host, port, modelId, apiKey, parallel, maxQueue, maxBodyBytes);
        OpenAiServer server = OpenAiServer.start(config, modelOptions::load, System.err::println);
        System.err.println("nemotron4j: listening at " + server.url() + ", loading " + model + " …");
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            server.close();
            stopped.countDown();
        }));
        try {
            server.ready().get();
        } catch (ExecutionException e) {
            server.close();
            return 1;
        }
        stopped.await();
        return 0;
    }
}
