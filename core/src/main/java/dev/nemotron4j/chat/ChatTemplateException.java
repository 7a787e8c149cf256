package dev.nemotron4j.chat;

import dev.nemotron4j.Nemotron4jException;

/**
 * A chat template that cannot be compiled or rendered: a Jinja syntax error (with its line), a template that rejected
 * the conversation through {@code raise_exception(msg)} (the message is the template's own), a value {@code tojson}
 * cannot serialize, or a render that hit a safety limit (output size, time).
 */
public class ChatTemplateException extends Nemotron4jException {
    public ChatTemplateException(String message) {
        super(message);
    }
}
