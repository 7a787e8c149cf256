// Tokenizes generated hard texts with llama.cpp (through node-llama-cpp) for every given vocab GGUF and writes
// one JSON line per (vocab, text, parse_special): {"vocab", "text", "parse_special", "ids"}.
// Usage: node llamacpp-tokenize.mjs OUT.jsonl COUNT VOCAB.gguf...   (llama.cpp adds no BOS here: add_special=false)
import fs from "node:fs";
import path from "node:path";

const [out, countArg, ...vocabs] = process.argv.slice(2);
const count = Number(countArg);

// Deterministic PRNG (mulberry32) so that reruns produce the same texts.
let seed = 0x5eed1234;
function rand() {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const pick = (a) => a[Math.floor(rand() * a.length)];

const pools = [
    ["Hello", "world", "the", "The", "quick", "brown", "fox", "don't", "I'm", "we'll", "they've", "HELLO", "camelCase", "snake_case"],
    ["café", "naïve", "façade", "Ångström", "Straße", "élève", "jalapeño", "Ελληνικά", "ǅemal", "e\u0301", "n\u0303o"],
    ["日本語", "中文字符", "한국어", "テスト", "漢字かな交じり", "ｆｕｌｌｗｉｄｔｈ", "，。！"],
    ["Привет", "мир", "Здравствуйте", "ёжик"],
    ["مرحبا", "بالعالم", "שלום", "עולם", "नमस्ते", "สวัสดี", "ខ្មែរ"],
    ["😀", "👍🏽", "👨‍👩‍👧‍👦", "🏳️‍🌈", "🇩🇪", "❤️", "🦙", "\u{10FFFF}", "\u{1F600}\u{1F600}"],
    [" ", "  ", "   ", "\t", "\t\t", "\n", "\n\n", "\r\n", "\r", " \n ", "\u00a0", "\u3000", "\u2003", "\u200b", "\ufeff", "    "],
    ["0", "7", "42", "123", "3333", "12345678", "3.14159", "1,000,000", "٣٤٥", "²", "½"],
    ["def f(x):\n    return x", "int main() { return 0; }", "if (a && b) {", "x += 1;", "<div class=\"a\">", "SELECT * FROM t;", "$ ls -la | grep x"],
    ["...", "!!!", "?!", "---", "***", "((()))", "\"'`", "@#$%^&*", "::", "->", "=>", "~~", "|"],
    ["<s>", "</s>", "<unk>", "<pad>", "<extra_id_0>", "<extra_id_1>", "<|endoftext|>", "[INST]", "<0x41>", "<SPECIAL_14>", "▁", "▁▁"],
];

function makeText() {
    const parts = 1 + Math.floor(rand() * 8);
    let s = "";
    for (let i = 0; i < parts; i++) {
        s += pick(pick(pools));
        const r = rand();
        if (r < 0.45) s += " ";
        else if (r < 0.55) s += pick(["\n", "\t", "  ", "\r\n", ""]);
    }
    return rand() < 0.3 ? " " + s : s;
}

const fixed = ["", " ", "  ", "\n", " \n", "\t\n", "Hello", " Hello", "  Hello", "Hello\n\nworld", "a<s>b", "<s>", " <s> ",
    "<extra_id_0>System\n<extra_id_1>User\nHi\n<extra_id_1>Assistant\n", "\u2581Hello", "\u2581\u2581x", "x\u2581 y"];
const texts = [...fixed];
while (texts.length < count) texts.push(makeText());

const {getLlama, LlamaLogLevel} = await import("node-llama-cpp");
const llama = await getLlama({gpu: false, build: "never", logLevel: LlamaLogLevel.error});
const lines = [];
for (const v of vocabs) {
    const model = await llama.loadModel({modelPath: v, vocabOnly: true});
    for (const text of texts) {
        for (const parseSpecial of [false, true]) {
            lines.push(JSON.stringify({vocab: path.basename(v), text, parse_special: parseSpecial,
                ids: Array.from(model.tokenize(text, parseSpecial))}));
        }
    }
    await model.dispose();
}
fs.writeFileSync(out, lines.join("\n") + "\n");
