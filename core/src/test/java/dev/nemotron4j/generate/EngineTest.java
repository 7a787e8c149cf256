package dev.nemotron4j.generate;

import dev.nemotron4j.Golden;
import dev.nemotron4j.InvalidInputException;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The embedding API end to end, on golden and scripted models. */
class EngineTest {
    private static Path scripted(String name) {
        return Golden.shared().resolve("scripted").resolve(name + ".gguf");
    }

    /** The README's example, on a scripted model whose answer is known. */
    @Test
    void readmeExampleChatWithAnNpc() {
        try (Engine engine = Engine.load(scripted("greeting"))) {
            Chat npc = engine.newChat().system("You are Brakka, the village blacksmith.");
            GenerationOptions options = GenerationOptions.of(SamplingParams.builder().temperature(0.7f).seed(1).build(),
                    128);
            StringBuilder streamed = new StringBuilder();
            GenerationResult answer = npc.send("Can you fix my sword?", options).run(streamed::append);
            String next = npc.send("How much?", options).text();

            String expected = "Greetings, stranger. The forge is hot today — mind the sparks! 🔥";
            assertEquals(expected, streamed.toString());
            assertEquals(expected, next);
            assertEquals(FinishReason.STOP, answer.finishReason());
            assertEquals(5, npc.messages().size());
            assertEquals("assistant", npc.messages().get(4).role());
        }
    }

    @Test
    void aFollowUpTurnReusesTheCachedPrompt() {
        try (Engine engine = Engine.load(scripted("greeting"))) {
            Chat npc = engine.newChat().system("You are Brakka, the village blacksmith.");
            GenerationResult first = npc.send("Can you fix my sword?", GenerationOptions.of(SamplingParams.GREEDY, 64))
                    .result();
            GenerationResult second = npc.send("And my shield?", GenerationOptions.of(SamplingParams.GREEDY, 64))
                    .result();
            assertTrue(second.cachedPromptTokens() > first.promptTokens() / 2,
                    "the second turn reuses the cached prefix, got " + second.cachedPromptTokens());
        }
    }

    @Test
    void greedyGenerationMatchesTheReference() {
        try (Engine engine = Engine.load(Golden.gguf("tiny-nemotron", "f32"))) {
            int[] expected = Golden.ids(Golden.read(Golden.reference("tiny-nemotron", "numpy-greedy.txt")));
            GenerationOptions options = new GenerationOptions(SamplingParams.GREEDY, expected.length, List.of(),
                    Set.of());
            GenerationResult r = engine.complete(Golden.tokens("tiny-nemotron", "A"), options).result();
            assertArrayEquals(expected, r.tokens());
            assertEquals(FinishReason.LENGTH, r.finishReason());
        }
    }

    @Test
    void seededSamplingIsReproducible() {
        try (Engine engine = Engine.load(Golden.gguf("tiny-mistral", "q8_0"))) {
            int[] prompt = Golden.tokens("tiny-mistral", "A");
            SamplingParams sampling = SamplingParams.builder().temperature(1.5f).topP(0.95f).seed(7).build();
            int[] a = engine.complete(prompt, GenerationOptions.of(sampling, 24)).result().tokens();
            int[] b = engine.complete(prompt, GenerationOptions.of(sampling, 24)).result().tokens();
            int[] c = engine.complete(prompt, GenerationOptions.of(sampling.toBuilder().seed(8).build(), 24))
                    .result().tokens();
            assertArrayEquals(a, b);
            assertFalse(java.util.Arrays.equals(a, c));
        }
    }

    @Test
    void streamingDeliversWholeCharactersAndTheSameText() {
        try (Engine engine = Engine.load(scripted("greeting"))) {
            List<String> pieces = new ArrayList<>();
            GenerationResult r = engine.newChat().send("hi", GenerationOptions.of(SamplingParams.GREEDY, 64))
                    .run(pieces::add);
            assertEquals(r.text(), String.join("", pieces));
            assertTrue(pieces.contains("🔥") || pieces.stream().anyMatch(p -> p.endsWith("🔥")));
            for (String p : pieces) {
                assertFalse(p.chars().anyMatch(ch -> ch == 0xFFFD), "broken character in piece " + p);
            }
            try (var stream = engine.newChat().send("hi", GenerationOptions.of(SamplingParams.GREEDY, 64)).stream()) {
                assertEquals(r.text(), stream.collect(Collectors.joining()));
            }
        }
    }

    @Test
    void maxTokensStopStringsAndContextLimits() {
        try (Engine engine = Engine.load(scripted("no-eos"))) {
            GenerationResult six = engine.newChat().send("sing", GenerationOptions.of(SamplingParams.GREEDY, 6))
                    .result();
            assertEquals("la li lu la li lu ", six.text());
            assertEquals(FinishReason.LENGTH, six.finishReason());

            GenerationOptions stopping = new GenerationOptions(SamplingParams.GREEDY, 50, List.of("lu la"), Set.of());
            GenerationResult stopped = engine.newChat().send("sing", stopping).result();
            assertEquals("la li ", stopped.text());
            assertEquals(FinishReason.STOP, stopped.finishReason());
        }
        try (Engine small = Engine.load(scripted("no-eos"), 40)) {
            GenerationResult full = small.newChat().send("sing", GenerationOptions.of(SamplingParams.GREEDY, 1000))
                    .result();
            assertEquals(FinishReason.CONTEXT_FULL, full.finishReason());
            // 40 positions are evaluated; the token sampled from the last of them is still returned.
            assertEquals(41, full.promptTokens() + full.generatedTokens());
            assertThrows(InvalidInputException.class, () -> small.newChat()
                    .send("word ".repeat(100), GenerationOptions.of(SamplingParams.GREEDY, 5)).result());
        }
    }

    @Test
    void cancellingEndsTheGenerationEarly() {
        try (Engine engine = Engine.load(scripted("no-eos"))) {
            Generation g = engine.newChat().send("sing", GenerationOptions.of(SamplingParams.GREEDY, 500));
            List<String> pieces = new ArrayList<>();
            GenerationResult r = g.run(piece -> {
                pieces.add(piece);
                if (pieces.size() == 5) {
                    g.cancel();
                }
            });
            assertEquals(FinishReason.CANCELLED, r.finishReason());
            assertEquals(5, r.generatedTokens());
            assertNotEquals(500, r.generatedTokens());
        }
    }

    @Test
    void controlTokensNeverAppearInText() {
        try (Engine engine = Engine.load(scripted("toolcall-attack"))) {
            GenerationResult r = engine.newChat().send("attack!", GenerationOptions.of(SamplingParams.GREEDY, 32))
                    .result();
            assertEquals("<toolcall> {\"name\": \"attack\", \"arguments\": {\"target\": \"goblin\", \"power\": 7}}"
                    + " </toolcall>", r.text());
            assertFalse(r.text().contains("</s>"));
        }
    }
}
