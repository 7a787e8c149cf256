package dev.nemotron4j.cli;

import dev.nemotron4j.InvalidInputException;
import dev.nemotron4j.tokenizer.Tokenizer;
import dev.nemotron4j.tokenizer.TokenizerLoader;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.Callable;

/** {@code detokenize}: prints the text of a comma-separated id list. */
@Command(name = "detokenize", mixinStandardHelpOptions = true, description = "Turn token ids back into text.")
public final class DetokenizeCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--model", required = true, description = "GGUF file, tokenizer.model, tokenizer.json or HF model directory")
    Path model;

    @Option(names = "--ids", required = true, description = "comma-separated token ids, e.g. 1,2,3")
    String ids;

    @Option(names = "--special", description = "write control/special tokens as their text")
    boolean special;

    @Override
    public Integer call() {
        int[] parsed;
        try {
            parsed = ids.isBlank() ? new int[0]
                    : Arrays.stream(ids.split(",")).map(String::strip).mapToInt(Integer::parseInt).toArray();
        } catch (NumberFormatException e) {
            throw new InvalidInputException("--ids must be comma-separated integers: " + ids);
        }
        Tokenizer tok = TokenizerLoader.load(model);
        spec.commandLine().getOut().println(tok.decode(parsed, special));
        spec.commandLine().getOut().flush();
        return 0;
    }
}
