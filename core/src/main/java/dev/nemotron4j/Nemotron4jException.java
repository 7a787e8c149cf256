package dev.nemotron4j;

/**
 * Base of every error nemotron4j reports to a user. The message must say what is wrong and, where it helps, what to do;
 * the CLI prints it as one line and the server turns it into a 4xx body.
 */
public class Nemotron4jException extends RuntimeException {
    public Nemotron4jException(String message) {
        super(message);
    }

    public Nemotron4jException(String message, Throwable cause) {
        super(message, cause);
    }
}
