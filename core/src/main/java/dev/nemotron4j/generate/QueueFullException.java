package dev.nemotron4j.generate;

import dev.nemotron4j.Nemotron4jException;

/** A {@link BatchScheduler} refused a request because its waiting queue is full; the caller may retry later. */
public final class QueueFullException extends Nemotron4jException {
    public QueueFullException(String message) {
        super(message);
    }
}
