package dev.nemotron4j;

/** A request the engine cannot run as given: token id outside the vocabulary, more tokens than the context, bad option. */
public class InvalidInputException extends Nemotron4jException {
    public InvalidInputException(String message) {
        super(message);
    }
}
