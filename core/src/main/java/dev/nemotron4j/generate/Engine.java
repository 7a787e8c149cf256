package dev.nemotron4j.generate;

import dev.nemotron4j.InvalidInputException;
import dev.nemotron4j.chat.ChatMessage;
import dev.nemotron4j.chat.ChatTemplate;
import dev.nemotron4j.chat.ChatTemplates;
import dev.nemotron4j.formats.gguf.GGUFFile;
import dev.nemotron4j.model.InferenceState;
import dev.nemotron4j.model.LoadOptions;
import dev.nemotron4j.model.Model;
import dev.nemotron4j.tokenizer.Tokenizer;
import dev.nemotron4j.tokenizer.TokenizerLoader;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * The embedding API: a model loaded once with its tokenizer and chat template, shared by any number of threads.
 * <pre>
 *   try (Engine engine = Engine.load(Path.of("nemotron-mini-4b-q4_0.gguf"))) {
 *       Chat npc = engine.newChat().system("You are Brakka, the village blacksmith.");
 *       String answer = npc.send("Can you fix my sword?", GenerationOptions.of(SamplingParams.GREEDY, 128)).text();
 *   }
 * </pre>
 * Each {@link Chat} or raw {@link #complete completion} has its own sequence state; a chat reuses its cached prompt
 * prefix from turn to turn, so a long system prompt is evaluated once.
 */
public final class Engine implements AutoCloseable {
    /** The Nemotron chat format's end-of-turn marker. */
    static final String END_OF_TURN = "<extra_id_1>";

    private final Model model;
    private final Tokenizer tokenizer;
    private final ChatTemplate template;
    private final Generator generator;
    private final int contextSize;
    private final List<String> endOfTurnStops;
    private final Set<Integer> endOfTurnTokens;

    private Engine(Model model, Tokenizer tokenizer, ChatTemplate template, int contextSize) {
        this.model = model;
        this.tokenizer = tokenizer;
        this.template = template;
        this.generator = new Generator(model.transformer(), tokenizer);
        this.contextSize = contextSize;
        // Nemotron-Mini has <extra_id_1> as one control token (never decoded to text, so it must stop as a token);
        // in Minitron-8B's vocabulary it is plain text, so it must stop as a string.
        this.endOfTurnTokens = tokenizer.tokenId(END_OF_TURN).stream().boxed().collect(Collectors.toSet());
        this.endOfTurnStops = List.of(END_OF_TURN);
    }

    /** Loads a model with its full context window. */
    public static Engine load(Path path) {
        return load(path, 0);
    }

    /**
     * Loads a GGUF file or HF model directory.
     *
     * @param contextSize tokens each sequence can hold (0 = the model's context length); the KV cache of a sequence
     *                    takes {@code 2 · layers · kvDim · 4} bytes per token, half that as f16
     *                    ({@link LoadOptions#kvCache})
     */
    public static Engine load(Path path, int contextSize) {
        return load(path, contextSize, LoadOptions.DEFAULT);
    }

    /**
     * Loads like {@link #load(Path, int)}; {@code options} can quantize float weights on load and choose the KV cache
     * type.
     */
    public static Engine load(Path path, int contextSize, LoadOptions options) {
        Model model = Model.load(path, options);
        try {
            Tokenizer tokenizer;
            ChatTemplate template;
            if (model.file() instanceof GGUFFile gguf) {
                tokenizer = TokenizerLoader.fromGguf(gguf);
                template = ChatTemplates.fromGguf(gguf).orElseGet(ChatTemplates::builtinNemotron);
            } else {
                Path dir = Files.isDirectory(path) ? path : path.toAbsolutePath().getParent();
                tokenizer = TokenizerLoader.load(dir);
                template = ChatTemplates.forModel(dir);
            }
            int max = model.config().contextLength();
            if (contextSize < 0 || contextSize > max) {
                throw new InvalidInputException("context size " + contextSize + " must be between 1 and the model's "
                        + max + " (0 = all)");
            }
            return new Engine(model, tokenizer, template, contextSize == 0 ? max : contextSize);
        } catch (RuntimeException e) {
            model.close();
            throw e;
        }
    }

    public Model model() {
        return model;
    }

    public Tokenizer tokenizer() {
        return tokenizer;
    }

    public ChatTemplate chatTemplate() {
        return template;
    }

    public int contextSize() {
        return contextSize;
    }

    /** A new conversation with no messages. */
    public Chat newChat() {
        return new Chat(this);
    }

    /**
     * Continues raw text (no chat template). BOS is added as the tokenizer config says and special-token strings in
     * the text become their tokens, as in llama.cpp.
     */
    public Generation complete(String prompt, GenerationOptions options) {
        return complete(tokenizer.encode(prompt, tokenizer.addBosByDefault(), true), options);
    }

    /** Continues exactly these token ids. */
    public Generation complete(int[] promptTokens, GenerationOptions options) {
        int[] prompt = promptTokens.clone();
        return new Generation((listener, cancelled) -> {
            InferenceState state = model.newState(Math.min(contextSize, prompt.length + options.maxTokens()));
            return generator.generate(state, prompt, options, listener, cancelled);
        });
    }

    /**
     * Runs a short throwaway generation (a prompt pass and a few decode steps) so that the JIT compiles the hot paths
     * before the first real request, instead of during it.
     */
    public void warmUp() {
        int[] prompt = new int[8];
        Arrays.fill(prompt, Math.max(0, tokenizer.bos()));
        complete(prompt, GenerationOptions.of(SamplingParams.GREEDY, 4)).result();
    }

    /** Renders messages through the chat template with the generation prompt and tokenizes the result. */
    public int[] chatPrompt(List<ChatMessage> messages, List<?> tools, List<String> contexts) {
        String text = template.render(messages, tools, contexts, true, Map.of());
        return tokenizer.encode(text, tokenizer.addBosByDefault(), true);
    }

    /** Generation options for an assistant turn: the caller's plus the end-of-turn stops. */
    GenerationOptions chatOptions(GenerationOptions options) {
        return options.withStops(endOfTurnStops, endOfTurnTokens);
    }

    Generator generator() {
        return generator;
    }

    @Override
    public void close() {
        model.close();
    }
}
