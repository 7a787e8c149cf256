// llama.cpp's batched decode, for comparison with `serve --parallel N` (server/src/test/js/bench.mjs): greedy
// decode of `tokens` tokens in one sequence, then in `clients` sequences of one context at once (node-llama-cpp
// evaluates the sequences of a context together, one batch per step); aggregate tokens/s and the ratio, twice.
// usage: node llamacpp-batch.mjs MODEL.gguf [clients 8] [tokens 64]   (bench/compare.sh installs node-llama-cpp)
const {getLlama, LlamaLogLevel} = await import("node-llama-cpp");

const [modelPath, clientsArg = "8", tokensArg = "64"] = process.argv.slice(2);
const clients = Number(clientsArg), tokens = Number(tokensArg);
const llama = await getLlama({gpu: false, build: "never", logLevel: LlamaLogLevel.error});
const model = await llama.loadModel({modelPath, gpuLayers: 0});
const ctx = await model.createContext({contextSize: clients * (tokens + 32), sequences: clients, batchSize: 512,
    threads: 2});
const vocab = model.fileInfo.metadata.tokenizer.ggml.tokens.length;
const sequences = Array.from({length: clients}, () => ctx.getSequence());

async function decode(seq, n) {
    await seq.clearHistory();
    let count = 0;
    // from one random token; EOS is not a stop because random weights emit it by chance
    for await (const token of seq.evaluate([4 + Math.floor(Math.random() * (vocab - 4))], {temperature: 0})) {
        if (++count >= n) break;
    }
    return count;
}

await Promise.all(sequences.map(s => decode(s, 4)));
for (let rep = 0; rep < 2; rep++) {
    let start = performance.now();
    await decode(sequences[0], tokens);
    const one = tokens / ((performance.now() - start) / 1000);
    start = performance.now();
    const counts = await Promise.all(sequences.map(s => decode(s, tokens)));
    const all = counts.reduce((a, b) => a + b, 0) / ((performance.now() - start) / 1000);
    console.log(`llama.cpp: 1 sequence ${one.toFixed(2)} tok/s, ${clients} sequences ${all.toFixed(2)} tok/s in all`
        + ` (${(all / one).toFixed(2)}x)`);
}
await ctx.dispose();
await model.dispose();
