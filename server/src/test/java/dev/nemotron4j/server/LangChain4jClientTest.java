package dev.nemotron4j.server;

import dev.langchain4j.agent.tool.ToolExecutionRequest;
import dev.langchain4j.agent.tool.ToolSpecification;
import dev.langchain4j.data.message.UserMessage;
import dev.langchain4j.model.chat.request.ChatRequest;
import dev.langchain4j.model.chat.request.json.JsonObjectSchema;
import dev.langchain4j.model.chat.response.ChatResponse;
import dev.langchain4j.model.chat.response.StreamingChatResponseHandler;
import dev.langchain4j.model.openai.OpenAiChatModel;
import dev.langchain4j.model.openai.OpenAiStreamingChatModel;
import dev.langchain4j.model.output.FinishReason;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** LangChain4j's OpenAI chat models against the live server. */
class LangChain4jClientTest {
    static LiveServer greeting;
    static LiveServer tools;

    @BeforeAll
    static void start() {
        greeting = LiveServer.start(LiveServer.scripted("greeting"));
        tools = LiveServer.start(LiveServer.scripted("toolcall-two"));
    }

    @AfterAll
    static void stop() {
        greeting.close();
        tools.close();
    }

    private static OpenAiChatModel model(LiveServer live, String name) {
        return OpenAiChatModel.builder().baseUrl(live.server.url() + "/v1").apiKey("unused").modelName(name)
                .temperature(0.0).maxRetries(0).timeout(Duration.ofSeconds(30)).build();
    }

    @Test
    void plainChatWithUsage() {
        ChatResponse response = model(greeting, "greeting").chat(ChatRequest.builder()
                .messages(UserMessage.from("Can you fix my sword?")).build());
        assertEquals(ChatServerTest.GREETING, response.aiMessage().text());
        assertEquals(FinishReason.STOP, response.finishReason());
        assertEquals(8, response.tokenUsage().outputTokenCount());
        assertTrue(response.tokenUsage().inputTokenCount() > 0);
    }

    @Test
    void stopSequences() {
        OpenAiChatModel model = OpenAiChatModel.builder().baseUrl(greeting.server.url() + "/v1").apiKey("unused")
                .modelName("greeting").stop(List.of("forge")).maxRetries(0).build();
        assertEquals("Greetings, stranger. The ", model.chat("hi"));
    }

    @Test
    void streaming() throws Exception {
        OpenAiStreamingChatModel model = OpenAiStreamingChatModel.builder().baseUrl(greeting.server.url() + "/v1")
                .apiKey("unused").modelName("greeting").temperature(0.0).build();
        StringBuilder partial = new StringBuilder();
        CompletableFuture<ChatResponse> done = new CompletableFuture<>();
        model.chat("hello", new StreamingChatResponseHandler() {
            @Override
            public void onPartialResponse(String text) {
                partial.append(text);
            }

            @Override
            public void onCompleteResponse(ChatResponse response) {
                done.complete(response);
            }

            @Override
            public void onError(Throwable error) {
                done.completeExceptionally(error);
            }
        });
        ChatResponse response = done.get(30, TimeUnit.SECONDS);
        assertEquals(ChatServerTest.GREETING, partial.toString());
        assertEquals(ChatServerTest.GREETING, response.aiMessage().text());
    }

    private static final List<ToolSpecification> SPECS = List.of(
            ToolSpecification.builder().name("open_door").description("Opens a door")
                    .parameters(JsonObjectSchema.builder().addStringProperty("door").build()).build(),
            ToolSpecification.builder().name("say").description("Says something")
                    .parameters(JsonObjectSchema.builder().addStringProperty("text").build()).build());

    @Test
    void toolCallsBecomeToolExecutionRequests() {
        ChatResponse response = model(tools, "toolcall-two").chat(ChatRequest.builder()
                .messages(UserMessage.from("Get us out of here")).toolSpecifications(SPECS).build());
        List<ToolExecutionRequest> calls = response.aiMessage().toolExecutionRequests();
        assertEquals(2, calls.size());
        assertEquals("open_door", calls.get(0).name());
        assertEquals("{\"door\":\"north\"}", calls.get(0).arguments());
        assertEquals("say", calls.get(1).name());
        assertFalse(calls.get(0).id().isBlank());
        assertEquals(FinishReason.TOOL_EXECUTION, response.finishReason());
    }

    @Test
    void streamedToolCalls() throws Exception {
        OpenAiStreamingChatModel model = OpenAiStreamingChatModel.builder().baseUrl(tools.server.url() + "/v1")
                .apiKey("unused").modelName("toolcall-two").build();
        CompletableFuture<ChatResponse> done = new CompletableFuture<>();
        StringBuilder partial = new StringBuilder();
        model.chat(ChatRequest.builder().messages(UserMessage.from("Go")).toolSpecifications(SPECS).build(),
                new StreamingChatResponseHandler() {
                    @Override
                    public void onPartialResponse(String text) {
                        partial.append(text);
                    }

                    @Override
                    public void onCompleteResponse(ChatResponse response) {
                        done.complete(response);
                    }

                    @Override
                    public void onError(Throwable error) {
                        done.completeExceptionally(error);
                    }
                });
        ChatResponse response = done.get(30, TimeUnit.SECONDS);
        assertEquals("", partial.toString());
        assertEquals(List.of("open_door", "say"), response.aiMessage().toolExecutionRequests().stream()
                .map(ToolExecutionRequest::name).toList());
        assertEquals("{\"text\":\"Stand back!\"}", response.aiMessage().toolExecutionRequests().get(1).arguments());
    }

    @Test
    void errorsSurfaceAsExceptions() {
        RuntimeException unknown = assertThrows(RuntimeException.class, () -> model(greeting, "gpt-4o").chat("hi"));
        assertTrue(String.valueOf(unknown.getMessage()).contains("gpt-4o"), unknown.getMessage());
    }
}
