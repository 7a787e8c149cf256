package dev.nemotron4j.server;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;

import java.time.Duration;
import java.util.function.IntSupplier;

/** The Prometheus metrics at {@code /metrics}. Names are prefixed {@code nemotron4j_}. */
final class ServerMetrics {
    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final Counter promptTokens;
    private final Counter generatedTokens;
    private final Timer timeToFirstToken;
    private final Timer tokenLatency;
    private final DistributionSummary batchSize;

    ServerMetrics(IntSupplier queueDepth, IntSupplier activeSlots) {
        promptTokens = Counter.builder("nemotron4j.prompt.tokens").description("prompt tokens received")
                .register(registry);
        generatedTokens = Counter.builder("nemotron4j.generated.tokens").description("tokens generated")
                .register(registry);
        timeToFirstToken = Timer.builder("nemotron4j.time.to.first.token")
                .description("from request to the first generated token").publishPercentileHistogram()
                .minimumExpectedValue(Duration.ofMillis(1)).maximumExpectedValue(Duration.ofMinutes(2))
                .register(registry);
        tokenLatency = Timer.builder("nemotron4j.token.latency")
                .description("time between consecutive generated tokens of one request").publishPercentileHistogram()
                .minimumExpectedValue(Duration.ofMillis(1)).maximumExpectedValue(Duration.ofSeconds(30))
                .register(registry);
        batchSize = DistributionSummary.builder("nemotron4j.request.generated.tokens")
                .description("generated tokens per request").register(registry);
        Gauge.builder("nemotron4j.queue.depth", queueDepth::getAsInt).description("requests waiting for a slot")
                .register(registry);
        Gauge.builder("nemotron4j.active.slots", activeSlots::getAsInt).description("slots holding a request")
                .register(registry);
    }

    void request(String path, int status) {
        Counter.builder("nemotron4j.requests").description("HTTP requests by path and status")
                .tag("path", path).tag("status", Integer.toString(status)).register(registry).increment();
    }

    void generation(int prompt, int generated) {
        promptTokens.increment(prompt);
        generatedTokens.increment(generated);
        batchSize.record(generated);
    }

    void firstToken(long nanos) {
        timeToFirstToken.record(Duration.ofNanos(nanos));
    }

    void interTokenLatency(long nanos) {
        tokenLatency.record(Duration.ofNanos(nanos));
    }

    String scrape() {
        return registry.scrape();
    }
}
