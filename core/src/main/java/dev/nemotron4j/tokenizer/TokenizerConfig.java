package dev.nemotron4j.tokenizer;

/**
 * Settings from a model directory's {@code tokenizer_config.json} / {@code config.json} that override or complete
 * what the tokenizer file says; null / -1 = not given.
 */
record TokenizerConfig(Boolean addBosToken, Boolean addEosToken, String bosToken, String eosToken, int bosId, int eosId) {

    static final TokenizerConfig NONE = new TokenizerConfig(null, null, null, null, -1, -1);

    boolean addBos(boolean fallback) {
        return addBosToken != null ? addBosToken : fallback;
    }

    boolean addEos(boolean fallback) {
        return addEosToken != null ? addEosToken : fallback;
    }

    /** The configured token (by string, then by id), else the vocabulary's {@code defaultPiece}, else -1. */
    int resolveId(Vocab vocab, String token, int id, String defaultPiece) {
        if (token != null && vocab.id(token) >= 0) {
            return vocab.id(token);
        }
        if (id >= 0 && id < vocab.size()) {
            return id;
        }
        return defaultPiece == null ? -1 : vocab.id(defaultPiece);
    }
}
