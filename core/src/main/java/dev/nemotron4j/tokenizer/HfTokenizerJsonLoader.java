package dev.nemotron4j.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;
import java.util.regex.Pattern;

/**
 * Builds a tokenizer from a Hugging Face {@code tokenizer.json} with HF tokenizers' semantics: added tokens are
 * split out first, then each remaining segment is normalised, pre-tokenised and BPE-encoded word by word.
 */
final class HfTokenizerJsonLoader {
    private HfTokenizerJsonLoader() {
    }

    static Tokenizer load(JsonNode root, TokenizerConfig config) {
        JsonNode model = root.path("model");
        String type = model.path("type").asText("BPE");
        boolean unigram = type.equals("Unigram");
        if (!unigram && !type.equals("BPE")) {
            throw new TokenizerException("tokenizer.json: model type " + type + " is not supported (only BPE and Unigram)");
        }
        if (!model.path("continuing_subword_prefix").isNull() && !model.path("continuing_subword_prefix").isMissingNode()
                || !model.path("end_of_word_suffix").isNull() && !model.path("end_of_word_suffix").isMissingNode()) {
            throw new TokenizerException("tokenizer.json: BPE subword prefixes/suffixes are not supported");
        }
        Map<String, Integer> vocabMap = new HashMap<>();
        Map<Integer, Double> unigramScores = new HashMap<>();
        int size = unigram ? readUnigramVocab(model.path("vocab"), vocabMap, unigramScores) : readBpeVocab(model.path("vocab"), vocabMap);
        Map<String, Integer> added = new HashMap<>();
        Map<String, Boolean> addedAlways = new HashMap<>();
        List<JsonNode> addedNodes = new ArrayList<>();
        for (JsonNode a : root.path("added_tokens")) {
            int id = a.path("id").asInt(-1);
            String content = a.path("content").asText(null);
            if (id < 0 || content == null) {
                throw new TokenizerException("tokenizer.json: malformed added_tokens entry " + a);
            }
            addedNodes.add(a);
            size = Math.max(size, id + 1);
        }
        String[] pieces = new String[size];
        TokenType[] types = new TokenType[size];
        vocabMap.forEach((p, id) -> {
            pieces[id] = p;
            types[id] = TokenType.NORMAL;
        });
        boolean byteFallback = model.path("byte_fallback").asBoolean(false);
        for (JsonNode a : addedNodes) {
            int id = a.path("id").asInt();
            String content = a.path("content").asText();
            boolean special = a.path("special").asBoolean(false);
            pieces[id] = content;
            types[id] = special ? TokenType.CONTROL : TokenType.USER_DEFINED;
            added.put(content, id);
            // HF matches non-special added tokens always; special ones here only when special parsing is on
            addedAlways.put(content, !special);
        }
        for (int i = 0; i < size; i++) {
            if (types[i] == TokenType.NORMAL && byteFallback && Vocab.byteValue(pieces[i]) >= 0) {
                types[i] = TokenType.BYTE;
            }
        }
        String unkToken = model.path("unk_token").asText(null);
        int unk = unigram ? model.path("unk_id").asInt(-1)
                : unkToken != null && vocabMap.containsKey(unkToken) ? vocabMap.get(unkToken)
                : unkToken != null && added.containsKey(unkToken) ? added.get(unkToken) : -1;
        if (unk >= size || unk >= 0 && pieces[unk] == null) {
            throw new TokenizerException("tokenizer.json: unknown token id " + unk + " is not in the vocabulary");
        }
        Vocab vocab = new Vocab(pieces, types, new float[size], unk);

        WordEncoder words;
        if (unigram) {
            double[] scores = new double[size];
            unigramScores.forEach((id, score) -> scores[id] = score);
            words = Unigram.huggingFace(vocab, scores, byteFallback)::encode;
        } else {
            String[][] merges = readMerges(model.path("merges"));
            words = new RankedBpe(vocab, merges, model.path("ignore_merges").asBoolean(false), byteFallback,
                    model.path("fuse_unk").asBoolean(false), unk)::encode;
        }
        UnaryOperator<String> normalizer = normalizer(root.path("normalizer"));
        PreTokenizer pre = preTokenizer(root.path("pre_tokenizer"));
        PipelineTokenizer.FragmentEncoder enc = (text, atStart, afterSpecial, out) -> {
            String normalized = normalizer.apply(text);
            if (pre == null) {
                words.encode(normalized, out);
            } else {
                for (String word : pre.split(normalized, atStart)) {
                    words.encode(word, out);
                }
            }
        };

        Decoding dec = decoding(root.path("decoder"));
        byte[][] surfaces = new byte[size][];
        boolean[] control = new boolean[size];
        for (int i = 0; i < size; i++) {
            String p = pieces[i] == null ? "" : pieces[i];
            control[i] = types[i] == TokenType.CONTROL;
            if (types[i] == TokenType.CONTROL || types[i] == TokenType.USER_DEFINED) {
                surfaces[i] = p.getBytes(StandardCharsets.UTF_8);
            } else if (dec.byteFallback && Vocab.byteValue(p) >= 0) {
                surfaces[i] = new byte[] {(byte) Vocab.byteValue(p)};
            } else if (dec.byteLevel) {
                byte[] b = ByteLevel.decode(p);
                surfaces[i] = b != null ? b : p.getBytes(StandardCharsets.UTF_8);
            } else {
                for (String[] r : dec.replacements) {
                    p = p.replace(r[0], r[1]);
                }
                surfaces[i] = p.getBytes(StandardCharsets.UTF_8);
            }
        }

        int[] template = bosEosFromPostProcessor(root.path("post_processor"), vocab);
        int bos = config.resolveId(vocab, config.bosToken(), config.bosId(), null);
        int eos = config.resolveId(vocab, config.eosToken(), config.eosId(), null);
        if (bos < 0) {
            bos = template[0] >= 0 ? template[0] : firstPresent(vocab, "<s>", "<|begin_of_text|>", "<|endoftext|>");
        }
        if (eos < 0) {
            eos = template[1] >= 0 ? template[1] : firstPresent(vocab, "</s>", "<|end_of_text|>", "<|endoftext|>");
        }
        return new PipelineTokenizer(vocab, UnaryOperator.identity(), new SpecialSplitter(added, addedAlways), enc,
                surfaces, control, dec.stripLeadingSpace, bos, eos,
                config.addBos(template[0] >= 0), config.addEos(template[1] >= 0));
    }

    /** The model step: one pre-tokenized word to ids. */
    private interface WordEncoder {
        void encode(String word, IntList out);
    }

    /** BPE {@code vocab}: an object piece -> id; returns the id range size. */
    private static int readBpeVocab(JsonNode vocabNode, Map<String, Integer> vocabMap) {
        if (!vocabNode.isObject()) {
            throw new TokenizerException("tokenizer.json: model.vocab is missing");
        }
        int size = 0;
        for (Iterator<Map.Entry<String, JsonNode>> it = vocabNode.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            int id = e.getValue().asInt(-1);
            if (id < 0) {
                throw new TokenizerException("tokenizer.json: bad id for vocab entry '" + e.getKey() + "'");
            }
            vocabMap.put(e.getKey(), id);
            size = Math.max(size, id + 1);
        }
        return size;
    }

    /** Unigram {@code vocab}: a list of {@code [piece, score]}, the id being the position; returns its length. */
    private static int readUnigramVocab(JsonNode vocabNode, Map<String, Integer> vocabMap, Map<Integer, Double> scores) {
        if (!vocabNode.isArray()) {
            throw new TokenizerException("tokenizer.json: model.vocab is missing");
        }
        for (int id = 0; id < vocabNode.size(); id++) {
            JsonNode e = vocabNode.get(id);
            if (!e.isArray() || e.size() != 2 || !e.get(0).isTextual() || !e.get(1).isNumber()) {
                throw new TokenizerException("tokenizer.json: malformed Unigram vocab entry " + id + ": " + e);
            }
            vocabMap.putIfAbsent(e.get(0).asText(), id); // HF keeps the first id of a duplicate piece
            scores.put(id, e.get(1).asDouble());
        }
        return vocabNode.size();
    }

    private static int firstPresent(Vocab vocab, String... pieces) {
        for (String p : pieces) {
            if (vocab.id(p) >= 0) {
                return vocab.id(p);
            }
        }
        return -1;
    }

    private static String[][] readMerges(JsonNode node) {
        String[][] merges = new String[node.size()][];
        for (int i = 0; i < node.size(); i++) {
            JsonNode m = node.get(i);
            if (m.isArray() && m.size() == 2) {
                merges[i] = new String[] {m.get(0).asText(), m.get(1).asText()};
            } else if (m.isTextual()) {
                String s = m.asText();
                int sp = s.indexOf(' ', 1);
                if (sp < 0) {
                    throw new TokenizerException("tokenizer.json: merge " + i + " '" + s + "' has no space separator");
                }
                merges[i] = new String[] {s.substring(0, sp), s.substring(sp + 1)};
            } else {
                throw new TokenizerException("tokenizer.json: malformed merge " + i + ": " + m);
            }
        }
        return merges;
    }

    private static UnaryOperator<String> normalizer(JsonNode n) {
        if (n.isMissingNode() || n.isNull()) {
            return UnaryOperator.identity();
        }
        String type = n.path("type").asText();
        return switch (type) {
            case "Sequence" -> {
                List<UnaryOperator<String>> steps = new ArrayList<>();
                for (JsonNode c : n.path("normalizers")) {
                    steps.add(normalizer(c));
                }
                yield s -> {
                    for (UnaryOperator<String> step : steps) {
                        s = step.apply(s);
                    }
                    return s;
                };
            }
            case "Prepend" -> {
                String prefix = n.path("prepend").asText();
                yield s -> s.isEmpty() ? s : prefix + s;
            }
            case "Replace" -> {
                Pattern p = pattern(n.path("pattern"));
                String content = java.util.regex.Matcher.quoteReplacement(n.path("content").asText());
                yield s -> p.matcher(s).replaceAll(content);
            }
            case "NFC" -> s -> java.text.Normalizer.normalize(s, java.text.Normalizer.Form.NFC);
            case "NFD" -> s -> java.text.Normalizer.normalize(s, java.text.Normalizer.Form.NFD);
            case "NFKC" -> s -> java.text.Normalizer.normalize(s, java.text.Normalizer.Form.NFKC);
            case "NFKD" -> s -> java.text.Normalizer.normalize(s, java.text.Normalizer.Form.NFKD);
            case "Lowercase" -> s -> s.toLowerCase(java.util.Locale.ROOT);
            default -> throw new TokenizerException("tokenizer.json: normalizer type " + type + " is not supported");
        };
    }

    private static Pattern pattern(JsonNode p) {
        if (p.has("String")) {
            return Pattern.compile(Pattern.quote(p.get("String").asText()));
        }
        if (p.has("Regex")) {
            return PreTokenizer.compile(p.get("Regex").asText());
        }
        throw new TokenizerException("tokenizer.json: pattern " + p + " is neither String nor Regex");
    }

    private static PreTokenizer preTokenizer(JsonNode n) {
        if (n.isMissingNode() || n.isNull()) {
            return null;
        }
        String type = n.path("type").asText();
        return switch (type) {
            case "Sequence" -> {
                List<PreTokenizer> steps = new ArrayList<>();
                for (JsonNode c : n.path("pretokenizers")) {
                    steps.add(preTokenizer(c));
                }
                yield new PreTokenizer.Sequence(steps);
            }
            case "Split" -> new PreTokenizer.RegexSplit(pattern(n.path("pattern")), behavior(n.path("behavior").asText()),
                    n.path("invert").asBoolean(false));
            case "ByteLevel" -> new PreTokenizer.ByteLevelSplit(n.path("add_prefix_space").asBoolean(true),
                    n.path("use_regex").asBoolean(true) ? PreTokenizer.compile(PreTokenizer.GPT2_PATTERN) : null);
            case "Metaspace" -> new PreTokenizer.Metaspace(n.path("replacement").asText("\u2581"),
                    n.has("prepend_scheme") ? n.path("prepend_scheme").asText()
                            : n.path("add_prefix_space").asBoolean(true) ? "always" : "never",
                    n.path("split").asBoolean(true));
            case "Digits" -> new PreTokenizer.RegexSplit(PreTokenizer.compile(
                    n.path("individual_digits").asBoolean(false) ? "\\p{N}" : "\\p{N}+"), PreTokenizer.Behavior.ISOLATED, false);
            case "WhitespaceSplit" -> new PreTokenizer.RegexSplit(PreTokenizer.compile("\\s+"),
                    PreTokenizer.Behavior.REMOVED, false);
            case "Whitespace" -> new PreTokenizer.RegexSplit(PreTokenizer.compile("\\w+|[^\\w\\s]+"),
                    PreTokenizer.Behavior.REMOVED, true);
            default -> throw new TokenizerException("tokenizer.json: pre_tokenizer type " + type + " is not supported");
        };
    }

    private static PreTokenizer.Behavior behavior(String b) {
        return switch (b) {
            case "Isolated" -> PreTokenizer.Behavior.ISOLATED;
            case "Removed" -> PreTokenizer.Behavior.REMOVED;
            case "MergedWithPrevious" -> PreTokenizer.Behavior.MERGED_WITH_PREVIOUS;
            case "MergedWithNext" -> PreTokenizer.Behavior.MERGED_WITH_NEXT;
            case "Contiguous" -> PreTokenizer.Behavior.CONTIGUOUS;
            default -> throw new TokenizerException("tokenizer.json: split behavior " + b + " is not supported");
        };
    }

    /** What the decoder chain does to single tokens, reduced to the supported HF decoders. */
    private static final class Decoding {
        boolean byteLevel;
        boolean byteFallback;
        boolean stripLeadingSpace;
        final List<String[]> replacements = new ArrayList<>();
    }

    private static Decoding decoding(JsonNode n) {
        Decoding d = new Decoding();
        addDecoder(n, d);
        return d;
    }

    private static void addDecoder(JsonNode n, Decoding d) {
        if (n.isMissingNode() || n.isNull()) {
            return;
        }
        String type = n.path("type").asText();
        switch (type) {
            case "Sequence" -> {
                for (JsonNode c : n.path("decoders")) {
                    addDecoder(c, d);
                }
            }
            case "ByteLevel" -> d.byteLevel = true;
            case "ByteFallback" -> d.byteFallback = true;
            case "Fuse" -> {
                // tokens are always concatenated
            }
            case "Replace" -> {
                JsonNode p = n.path("pattern");
                if (!p.has("String")) {
                    throw new TokenizerException("tokenizer.json: only String patterns are supported in the Replace decoder");
                }
                d.replacements.add(new String[] {p.get("String").asText(), n.path("content").asText()});
            }
            case "Strip" -> {
                if (!n.path("content").asText().equals(" ") || n.path("start").asInt() > 1 || n.path("stop").asInt() != 0) {
                    throw new TokenizerException("tokenizer.json: only Strip(' ', 1, 0) is supported as a decoder");
                }
                d.stripLeadingSpace = n.path("start").asInt() == 1;
            }
            case "Metaspace" -> {
                String rep = n.path("replacement").asText("\u2581");
                d.replacements.add(new String[] {rep, " "});
                String scheme = n.has("prepend_scheme") ? n.path("prepend_scheme").asText()
                        : n.path("add_prefix_space").asBoolean(true) ? "always" : "never";
                d.stripLeadingSpace = !scheme.equals("never");
            }
            default -> throw new TokenizerException("tokenizer.json: decoder type " + type + " is not supported");
        }
    }

    /** {BOS id, EOS id} that the TemplateProcessing single template puts around {@code $A}; -1 where none. */
    private static int[] bosEosFromPostProcessor(JsonNode n, Vocab vocab) {
        int[] r = {-1, -1};
        if (!n.path("type").asText().equals("TemplateProcessing")) {
            return r;
        }
        boolean seenSequence = false;
        for (JsonNode item : n.path("single")) {
            if (item.has("Sequence")) {
                seenSequence = true;
            } else if (item.has("SpecialToken")) {
                String name = item.path("SpecialToken").path("id").asText();
                JsonNode ids = n.path("special_tokens").path(name).path("ids");
                int id = ids.size() == 1 ? ids.get(0).asInt() : vocab.id(name);
                r[seenSequence ? 1 : 0] = id;
            }
        }
        return r;
    }
}
