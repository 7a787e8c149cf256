package dev.nemotron4j.cli;

import dev.nemotron4j.Nemotron4jException;
import picocli.CommandLine;
import picocli.CommandLine.Command;

import java.io.PrintWriter;

/** Entry point of the {@code nemotron4j} command: one subcommand class per command. */
@Command(name = "nemotron4j", mixinStandardHelpOptions = true, version = "nemotron4j 0.1.0",
        description = "Run NVIDIA Nemotron-Mini and Mistral-NeMo-Minitron models in pure Java.",
        subcommands = {
                InspectCommand.class,
                LogitsCommand.class,
                TokenizeCommand.class,
                DetokenizeCommand.class,
                TemplateCommand.class,
                GenerateCommand.class,
                ChatCommand.class,
                ServeCommand.class,
                SynthCommand.class,
                BenchCommand.class,
        })
public final class Main {

    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Runs the command line and returns the exit code; user errors print one line, never a stack trace. */
    public static int run(String... args) {
        CommandLine cli = new CommandLine(new Main());
        cli.setExecutionExceptionHandler((e, commandLine, parseResult) -> {
            PrintWriter err = commandLine.getErr();
            if (e instanceof Nemotron4jException) {
                err.println("error: " + e.getMessage());
                return 1;
            }
            if (e instanceof java.io.UncheckedIOException || e instanceof java.io.IOException) {
                err.println("error: " + e.getMessage());
                return 1;
            }
            throw e;
        });
        return cli.execute(args);
    }
}
