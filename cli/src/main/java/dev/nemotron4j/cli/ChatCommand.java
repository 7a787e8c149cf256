package dev.nemotron4j.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.nemotron4j.Nemotron4jException;
import dev.nemotron4j.chat.ChatJson;
import dev.nemotron4j.generate.Chat;
import dev.nemotron4j.generate.Engine;
import dev.nemotron4j.generate.Generation;
import dev.nemotron4j.generate.GenerationResult;
import org.jline.reader.EndOfFileException;
import org.jline.reader.LineReader;
import org.jline.reader.LineReaderBuilder;
import org.jline.reader.UserInterruptException;
import org.jline.reader.impl.DefaultParser;
import org.jline.terminal.Terminal;
import org.jline.terminal.TerminalBuilder;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicReference;

@Command(name = "chat", mixinStandardHelpOptions = true,
        description = "Chat with a model in the terminal. Type /help for commands; Ctrl-C stops an answer, Ctrl-D quits.")
final class ChatCommand implements Callable<Integer> {
    private static final String HELP = """
            /system TEXT   set the system prompt        /reset       forget the conversation
            /save FILE     save the conversation (JSON) /load FILE   load a saved conversation
            /exit          quit (or Ctrl-D)             end a line with \\ to continue on the next line""";

    @Mixin
    ModelOptions modelOptions;

    @Mixin
    SamplingOptions sampling;

    @Option(names = "--system", description = "system prompt")
    String system;

    @Override
    public Integer call() throws IOException {
        try (Engine engine = modelOptions.load();
             Terminal terminal = TerminalBuilder.builder().system(true).dumb(true).build()) {
            Chat chat = engine.newChat();
            if (system != null) {
                chat.system(system);
            }
            repl(chat, terminal);
        }
        return 0;
    }

    void repl(Chat chat, Terminal terminal) {
        DefaultParser parser = new DefaultParser();
        parser.setEscapeChars(new char[0]); // a trailing backslash continues the message here, not in JLine
        LineReader reader = LineReaderBuilder.builder().terminal(terminal).parser(parser)
                .option(LineReader.Option.DISABLE_EVENT_EXPANSION, true)
                .variable(LineReader.HISTORY_FILE, Path.of(System.getProperty("user.home"), ".nemotron4j_history"))
                .variable(LineReader.SECONDARY_PROMPT_PATTERN, "… ")
                .build();
        PrintWriter out = terminal.writer();
        AtomicReference<Generation> running = new AtomicReference<>();
        terminal.handle(Terminal.Signal.INT, signal -> {
            Generation g = running.get();
            if (g != null) {
                g.cancel();
            }
        });
        out.println("Chatting with " + modelOptions.model + ". /help for commands.");
        while (true) {
            String input;
            try {
                input = readMessage(reader);
            } catch (UserInterruptException e) {
                out.println("(Ctrl-D or /exit to quit)");
                continue;
            } catch (EndOfFileException e) {
                return;
            }
            if (input.isBlank()) {
                continue;
            }
            try {
                if (input.startsWith("/")) {
                    if (!command(chat, input.strip(), out)) {
                        return;
                    }
                    continue;
                }
                Generation g = chat.send(input, sampling.toOptions());
                running.set(g);
                GenerationResult r = g.run(piece -> {
                    out.print(piece);
                    out.flush();
                });
                running.set(null);
                out.printf("%n[%d tokens, %.1f tok/s%s]%n", r.generatedTokens(), r.tokensPerSecond(),
                        r.finishReason().wireName().equals("stop") ? "" : ", " + r.finishReason().wireName());
            } catch (Nemotron4jException e) {
                running.set(null);
                out.println("error: " + e.getMessage());
            }
            out.flush();
        }
    }

    /** Reads one message; lines ending in a backslash continue it. */
    private static String readMessage(LineReader reader) {
        StringBuilder message = new StringBuilder();
        String line = reader.readLine("> ");
        while (line.endsWith("\\")) {
            message.append(line, 0, line.length() - 1).append('\n');
            line = reader.readLine("… ");
        }
        return message.append(line).toString();
    }

    /** Runs a slash command; false means quit. */
    private static boolean command(Chat chat, String input, PrintWriter out) {
        int space = input.indexOf(' ');
        String name = space < 0 ? input : input.substring(0, space);
        String arg = space < 0 ? "" : input.substring(space + 1).strip();
        switch (name) {
            case "/exit", "/quit" -> {
                return false;
            }
            case "/help" -> out.println(HELP);
            case "/system" -> {
                chat.system(arg);
                out.println("(system prompt set)");
            }
            case "/reset" -> {
                chat.reset();
                out.println("(conversation cleared)");
            }
            case "/save" -> {
                requireFile(arg);
                try {
                    Files.writeString(Path.of(arg), new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT)
                            .writeValueAsString(ChatJson.toJson(chat.messages())));
                    out.println("(saved " + chat.messages().size() + " messages to " + arg + ")");
                } catch (IOException e) {
                    out.println("error: cannot write " + arg + ": " + e.getMessage());
                }
            }
            case "/load" -> {
                requireFile(arg);
                try {
                    String json = Files.readString(Path.of(arg));
                    chat.messages(ChatJson.messages(ChatJson.parse(json, arg)));
                    out.println("(loaded " + chat.messages().size() + " messages from " + arg + ")");
                } catch (IOException e) {
                    out.println("error: cannot read " + arg + ": " + e.getMessage());
                }
            }
            default -> out.println("unknown command " + name + "; /help lists them");
        }
        return true;
    }

    private static void requireFile(String arg) {
        if (arg.isEmpty()) {
            throw new dev.nemotron4j.InvalidInputException("a file name is needed");
        }
    }
}
