package dev.nemotron4j.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.nemotron4j.InvalidInputException;
import dev.nemotron4j.tokenizer.Tokenizer;
import dev.nemotron4j.tokenizer.TokenizerLoader;
import dev.nemotron4j.tokenizer.Utf8;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;

/** {@code tokenize}: prints {"ids": [...], "pieces": [...]} for a text, a file, or each line of a JSONL file. */
@Command(name = "tokenize", mixinStandardHelpOptions = true, description = "Tokenize text with a model's tokenizer.")
public final class TokenizeCommand implements Callable<Integer> {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Spec
    CommandSpec spec;

    @Option(names = "--model", required = true, description = "GGUF file, tokenizer.model, tokenizer.json or HF model directory")
    Path model;

    static final class Input {
        @Option(names = "--text", description = "text to tokenize")
        String text;

        @Option(names = "--file", description = "UTF-8 file whose whole content is tokenized")
        Path file;

        @Option(names = "--jsonl", description = "JSONL file of {\"text\": ...} objects; one output line per input line")
        Path jsonl;
    }

    @ArgGroup(exclusive = true, multiplicity = "1")
    Input input;

    @Option(names = "--no-bos", description = "never add BOS (default: as the tokenizer config says)")
    boolean noBos;

    @Option(names = "--special", description = "match special-token strings in the text as single tokens")
    boolean special;

    @Override
    public Integer call() {
        Tokenizer tok = TokenizerLoader.load(model);
        PrintWriter out = spec.commandLine().getOut();
        boolean addBos = !noBos && tok.addBosByDefault();
        if (input.jsonl != null) {
            int lineNo = 0;
            for (String line : Utf8.decodeStrict(read(input.jsonl), input.jsonl.toString()).split("\n", -1)) {
                lineNo++;
                if (line.isBlank()) {
                    continue;
                }
                JsonNode text;
                try {
                    text = JSON.readTree(line).path("text");
                } catch (IOException e) {
                    throw new InvalidInputException(input.jsonl + ":" + lineNo + ": malformed JSON: " + e.getMessage());
                }
                if (!text.isTextual()) {
                    throw new InvalidInputException(input.jsonl + ":" + lineNo + ": no \"text\" string");
                }
                out.println(result(tok, tok.encode(text.asText(), addBos, special)));
            }
        } else {
            String text = input.text != null ? input.text : Utf8.decodeStrict(read(input.file), input.file.toString());
            out.println(result(tok, tok.encode(text, addBos, special)));
        }
        out.flush();
        return 0;
    }

    private static String result(Tokenizer tok, int[] ids) {
        ObjectNode node = JSON.createObjectNode();
        ArrayNode idArray = node.putArray("ids");
        ArrayNode pieces = node.putArray("pieces");
        for (int id : ids) {
            idArray.add(id);
            pieces.add(tok.piece(id));
        }
        return node.toString();
    }

    private static byte[] read(Path p) {
        try {
            return Files.readAllBytes(p);
        } catch (IOException e) {
            throw new UncheckedIOException(p + ": cannot read: " + e.getMessage(), e);
        }
    }
}
