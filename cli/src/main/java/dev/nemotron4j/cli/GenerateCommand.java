package dev.nemotron4j.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.nemotron4j.generate.Engine;
import dev.nemotron4j.generate.Generation;
import dev.nemotron4j.generate.GenerationOptions;
import dev.nemotron4j.generate.GenerationResult;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.util.concurrent.Callable;

@Command(name = "generate", mixinStandardHelpOptions = true,
        description = "Generate text. The prompt is sent as a user message through the model's chat template "
                + "unless --raw or --prompt-tokens is given.")
final class GenerateCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Mixin
    ModelOptions modelOptions;

    @Mixin
    SamplingOptions sampling;

    @ArgGroup(multiplicity = "1")
    Prompt prompt;

    static final class Prompt {
        @Option(names = "--prompt", required = true, description = "prompt text")
        String text;

        @Option(names = "--prompt-tokens", required = true, converter = TokenIds.Converter.class,
                description = "prompt token ids, used exactly as given (no BOS, no template)")
        TokenIds tokens;
    }

    @Option(names = "--raw", description = "send the prompt text as is, without the chat template")
    boolean raw;

    @Option(names = "--system", description = "system prompt (chat mode)")
    String system;

    @Option(names = "--json", description = "print one JSON object with tokens, text, finish reason and timings")
    boolean json;

    @Override
    public Integer call() throws Exception {
        GenerationOptions options = sampling.toOptions();
        try (Engine engine = modelOptions.load()) {
            Generation generation;
            if (prompt.tokens != null) {
                generation = engine.complete(prompt.tokens.ids(), options);
            } else if (raw) {
                generation = engine.complete(prompt.text, options);
            } else {
                var chat = engine.newChat();
                if (system != null) {
                    chat.system(system);
                }
                generation = chat.send(prompt.text, options);
            }
            PrintWriter out = spec.commandLine().getOut();
            if (json) {
                out.println(new ObjectMapper().writeValueAsString(toJson(generation.result())));
            } else {
                generation.run(piece -> {
                    out.print(piece);
                    out.flush();
                });
                out.println();
            }
            out.flush();
        }
        return 0;
    }

    private static ObjectNode toJson(GenerationResult r) {
        ObjectNode node = new ObjectMapper().createObjectNode();
        var tokens = node.putArray("tokens");
        for (int t : r.tokens()) {
            tokens.add(t);
        }
        node.put("text", r.text());
        node.put("finish_reason", r.finishReason().wireName());
        node.put("prompt_tokens", r.promptTokens());
        node.put("generated_tokens", r.generatedTokens());
        node.put("prompt_ms", r.promptMs());
        node.put("generate_ms", r.generateMs());
        node.put("tokens_per_second", r.tokensPerSecond());
        return node;
    }
}
