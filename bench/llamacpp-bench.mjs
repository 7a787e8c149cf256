// llama.cpp side of compare.sh, timed the way llama-bench does: pp = one evaluation of `pp` random tokens in a fresh
// sequence, tg = `tg` single-token greedy decode steps from an empty sequence; one untimed warm-up of each; the
// median of `reps` runs is reported as tokens/s. With --depth D (llama-bench's -d) both start after D cached tokens,
// evaluated once and kept: each run erases what the one before added.
// usage: node llamacpp-bench.mjs MODEL.gguf [--pp 512] [--tg 128] [--depth 0] [--reps 3] [--threads 2]
const {getLlama, LlamaLogLevel} = await import("node-llama-cpp");

const args = process.argv.slice(2);
const modelPath = args[0];
const opt = (name, fallback) => {
    const i = args.indexOf(`--${name}`);
    return i >= 0 ? Number(args[i + 1]) : fallback;
};
const pp = opt("pp", 512), tg = opt("tg", 128), depth = opt("depth", 0), reps = opt("reps", 3),
    threads = opt("threads", 2);

const llama = await getLlama({gpu: false, build: "never", logLevel: LlamaLogLevel.error});
let t0 = performance.now();
const model = await llama.loadModel({modelPath, gpuLayers: 0});
const loadSeconds = (performance.now() - t0) / 1000;
const ctx = await model.createContext({contextSize: depth + Math.max(pp, tg) + 16,
    batchSize: Math.max(pp, depth, 1), threads});
const seq = ctx.getSequence();
const vocab = model.fileInfo.metadata.tokenizer.ggml.tokens.length;
// ids from 4 up skip the special tokens, as llama-bench draws random ids
const randomTokens = n => Array.from({length: n}, () => 4 + Math.floor(Math.random() * (vocab - 4)));

// The sequence back to its first `depth` tokens.
async function toDepth() {
    if (seq.nextTokenIndex > depth) {
        await seq.eraseContextTokenRanges([{start: depth, end: seq.nextTokenIndex}]);
    }
}

async function promptRun() {
    await toDepth();
    const tokens = randomTokens(pp);
    const start = performance.now();
    await seq.evaluateWithoutGeneratingNewTokens(tokens);
    return pp / ((performance.now() - start) / 1000);
}

async function decodeRun(n) {
    await toDepth();
    let count = 0;
    const start = performance.now();
    // temperature 0 is greedy; EOS is not a stop here because random weights emit it by chance
    for await (const token of seq.evaluate(randomTokens(1), {temperature: 0})) {
        if (++count >= n) break;
    }
    return n / ((performance.now() - start) / 1000);
}

const median = v => {
    v.sort((a, b) => a - b);
    return v.length % 2 ? v[(v.length - 1) / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
};

if (depth > 0) await seq.evaluateWithoutGeneratingNewTokens(randomTokens(depth));
if (pp > 0) await promptRun();
if (tg > 0) await decodeRun(Math.min(tg, 4));
const ppRuns = [], tgRuns = [];
for (let r = 0; r < reps; r++) {
    if (pp > 0) ppRuns.push(await promptRun());
}
for (let r = 0; r < reps; r++) {
    if (tg > 0) tgRuns.push(await decodeRun(tg));
}
const round = v => Math.round(v * 1000) / 1000;
console.log(JSON.stringify({engine: "llama.cpp (node-llama-cpp 3.21.1)", threads, pp, tg, depth, reps,
    pp_tok_s: pp > 0 ? round(median(ppRuns)) : 0, tg_tok_s: tg > 0 ? round(median(tgRuns)) : 0,
    load_s: round(loadSeconds)}));
await ctx.dispose();
await model.dispose();
