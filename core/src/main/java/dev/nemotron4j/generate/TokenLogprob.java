package dev.nemotron4j.generate;

import java.util.List;

/** A chosen token's log-probability under the model, with the most likely alternatives at that step. */
public record TokenLogprob(int token, float logprob, List<Alternative> top) {

    public record Alternative(int token, float logprob) {
    }
}
