package dev.nemotron4j.tokenizer;

import dev.nemotron4j.formats.gguf.GGUFFile;

import java.util.HashMap;
import java.util.HashSet;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.UnaryOperator;

/** Builds a tokenizer from GGUF {@code tokenizer.ggml.*} metadata with llama.cpp's semantics. */
final class GgufTokenizerLoader {
    private GgufTokenizerLoader() {
    }

    /** Token texts llama.cpp treats as end of generation and forces to control type when loading any vocabulary. */
    private static final Set<String> END_OF_GENERATION = Set.of("<|eot_id|>", "<|im_end|>", "<|end|>", "<|return|>",
            "<|call|>", "<|flush|>", "<|calls|>", "<end_of_turn>", "<|endoftext|>", "</s>", "<|eom_id|>", "<EOT>",
            "_<EOT>", "[EOT]", "[EOS]", "<|end_of_text|>", "<end_of_utterance>", "<eos>", "<turn|>", "<|tool_response>");

    static Tokenizer load(GGUFFile gguf) {
        String where = gguf.path() + ": ";
        if (!gguf.has("tokenizer.ggml.model") || !gguf.has("tokenizer.ggml.tokens")) {
            throw new TokenizerException(where + "no tokenizer vocabulary (tokenizer.ggml.model / tokens missing)");
        }
        String model = gguf.getString("tokenizer.ggml.model");
        String[] tokens = gguf.getStringArray("tokenizer.ggml.tokens");
        TokenType[] types = new TokenType[tokens.length];
        int[] codes = gguf.has("tokenizer.ggml.token_type") ? gguf.getIntArray("tokenizer.ggml.token_type") : null;
        if (codes != null && codes.length != tokens.length) {
            throw new TokenizerException(where + "token_type has " + codes.length + " entries for " + tokens.length + " tokens");
        }
        for (int i = 0; i < tokens.length; i++) {
            types[i] = codes == null ? TokenType.NORMAL : TokenType.fromCode(codes[i]);
            // llama.cpp makes every token spelled like an end-of-generation marker a control token (llama-vocab.cpp)
            if (END_OF_GENERATION.contains(tokens[i])) {
                types[i] = TokenType.CONTROL;
            }
        }
        float[] scores = gguf.has("tokenizer.ggml.scores") ? gguf.getFloatArray("tokenizer.ggml.scores") : new float[tokens.length];
        if (scores.length != tokens.length) {
            throw new TokenizerException(where + "scores has " + scores.length + " entries for " + tokens.length + " tokens");
        }
        int bos = id(gguf, "tokenizer.ggml.bos_token_id", tokens.length);
        int eos = id(gguf, "tokenizer.ggml.eos_token_id", tokens.length);
        int unk = id(gguf, "tokenizer.ggml.unknown_token_id", tokens.length);
        boolean spm = model.equals("llama");
        if (!spm && !model.equals("gpt2")) {
            throw new TokenizerException(where + "unsupported tokenizer.ggml.model '" + model + "' (supported: llama, gpt2)");
        }
        boolean addBos = gguf.getBoolean("tokenizer.ggml.add_bos_token", spm);
        boolean addEos = gguf.getBoolean("tokenizer.ggml.add_eos_token", false);
        Vocab vocab = new Vocab(tokens, types, scores, unk);

        // llama.cpp partitions on control/unknown tokens only with parse_special; user-defined ones always
        Map<String, Integer> specials = new HashMap<>();
        Map<String, Boolean> always = new HashMap<>();
        for (int i = 0; i < tokens.length; i++) {
            TokenType t = types[i];
            if (t == TokenType.CONTROL || t == TokenType.UNKNOWN || t == TokenType.USER_DEFINED) {
                specials.putIfAbsent(tokens[i], i);
                always.put(tokens[i], t == TokenType.USER_DEFINED);
            }
        }
        SpecialSplitter splitter = new SpecialSplitter(specials, always, rstripTokens(gguf, specials.keySet()));
        boolean[] control = PipelineTokenizer.controlFlags(vocab);

        if (spm) {
            boolean addSpacePrefix = gguf.getBoolean("tokenizer.ggml.add_space_prefix", true);
            SentencePieceBpe bpe = new SentencePieceBpe(vocab, null, true);
            PipelineTokenizer.FragmentEncoder enc = (text, atStart, afterSpecial, out) -> {
                // llama.cpp prefixes a space to every fragment that starts the text or follows a special token
                String t = addSpacePrefix && afterSpecial ? " " + text : text;
                bpe.encode(t.replace(' ', '\u2581'), out);
            };
            return new PipelineTokenizer(vocab, UnaryOperator.identity(), splitter, enc, PipelineTokenizer.spmSurfaces(vocab, "\u2585"), control,
                    addSpacePrefix, bos, eos, addBos, addEos);
        }
        String[] mergeLines = gguf.has("tokenizer.ggml.merges") ? gguf.getStringArray("tokenizer.ggml.merges") : new String[0];
        String[][] merges = new String[mergeLines.length][];
        for (int i = 0; i < mergeLines.length; i++) {
            int sp = mergeLines[i].indexOf(' ', 1);
            if (sp < 0) {
                throw new TokenizerException(where + "merge " + i + " '" + mergeLines[i] + "' has no space separator");
            }
            merges[i] = new String[] {mergeLines[i].substring(0, sp), mergeLines[i].substring(sp + 1)};
        }
        LlamaCppPreTokenizers.Selection sel = LlamaCppPreTokenizers.forPreType(gguf.getString("tokenizer.ggml.pre", "default"));
        RankedBpe bpe = new RankedBpe(vocab, merges, sel.ignoreMerges(), false, false, -1);
        PipelineTokenizer.FragmentEncoder enc = (text, atStart, afterSpecial, out) -> {
            for (String word : sel.preTokenizer().split(text, atStart)) {
                bpe.encode(ByteLevel.encode(word), out);
            }
        };
        return new PipelineTokenizer(vocab, UnaryOperator.identity(), splitter, enc, PipelineTokenizer.byteLevelSurfaces(vocab), control,
                false, bos, eos, addBos, addEos);
    }

    /**
     * llama.cpp gives Phi-3 vocabularies (by model name) the RSTRIP attribute on all special tokens but
     * {@code <unk>}, {@code <s>} and {@code <|endoftext|>}: whitespace after them is dropped when they are matched.
     */
    private static Set<String> rstripTokens(GGUFFile gguf, Set<String> specials) {
        String name = gguf.getString("general.name", "").toLowerCase(Locale.ROOT);
        if (!name.contains("phi-3") && !name.contains("phi3")) {
            return Set.of();
        }
        Set<String> r = new HashSet<>(specials);
        r.removeAll(Set.of("<unk>", "<s>", "<|endoftext|>"));
        return r;
    }

    private static int id(GGUFFile gguf, String key, int n) {
        int id = gguf.has(key) ? (int) gguf.getLong(key) : -1;
        return id >= 0 && id < n ? id : -1;
    }
}
