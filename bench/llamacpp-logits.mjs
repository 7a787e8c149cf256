// Compares llama.cpp's next-token distribution with logits written by `nemotron4j logits` for the same tokens.
// usage: node llamacpp-logits.mjs MODEL.gguf TOKENS(1,5,9) OUR_LOGITS.bin
// llama.cpp (through node-llama-cpp) exposes probabilities, not raw logits, so both sides are compared as
// log-softmax: that removes the per-position constant a softmax ignores.
import {readFileSync} from "node:fs";
const {getLlama, LlamaLogLevel} = await import("node-llama-cpp");

const [modelPath, tokenList, oursPath] = process.argv.slice(2);
const tokens = tokenList.split(",").map(Number);
const llama = await getLlama({gpu: false, build: "never", logLevel: LlamaLogLevel.error});
const model = await llama.loadModel({modelPath});
const vocab = model.fileInfo.metadata.tokenizer.ggml.tokens.length;
const ctx = await model.createContext({contextSize: Math.max(256, tokens.length + 1), threads: 2});
const out = await ctx.getSequence().controlledEvaluate(
    tokens.map(t => [t, {generateNext: {probabilities: true}}]));

const buf = readFileSync(oursPath);
const ours = new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4);
let maxAbs = 0, argmaxAgree = 0;
for (let p = 0; p < tokens.length; p++) {
    const probs = out[p].next.probabilities;
    const row = ours.subarray(p * vocab, (p + 1) * vocab);
    const max = row.reduce((m, v) => Math.max(m, v), -Infinity);
    const lse = max + Math.log(row.reduce((s, v) => s + Math.exp(v - max), 0));
    let ourBest = 0;
    for (let i = 0; i < vocab; i++) if (row[i] > row[ourBest]) ourBest = i;
    const theirBest = probs.entries().next().value[0];
    if (ourBest === theirBest) argmaxAgree++;
    for (let i = 0; i < vocab; i++) {
        const theirs = probs.get(i);
        if (theirs === undefined || theirs < 1e-6) continue; // too small to have a meaningful log in float32
        maxAbs = Math.max(maxAbs, Math.abs(Math.log(theirs) - (row[i] - lse)));
    }
}
console.log(JSON.stringify({positions: tokens.length, vocab, max_abs_logprob_diff: maxAbs,
    argmax_agree: `${argmaxAgree}/${tokens.length}`}));
await ctx.dispose();
await model.dispose();
