// Benchmark (not a test): aggregate generated tokens per second with N concurrent streaming clients.
// usage: node bench.mjs URL MODEL CLIENTS MAX_TOKENS
import OpenAI from "openai";

const [url, model, clients = "1", maxTokens = "32"] = process.argv.slice(2);
const client = new OpenAI({ baseURL: `${url}/v1`, apiKey: "unused", maxRetries: 0 });

async function one(i) {
  const stream = await client.completions.create({
    model, prompt: `Tell the story of village ${i}:`, max_tokens: Number(maxTokens), temperature: 0,
    stream: true, stream_options: { include_usage: true },
  });
  let tokens = 0;
  for await (const chunk of stream) if (chunk.usage) tokens = chunk.usage.completion_tokens;
  return tokens;
}

const start = performance.now();
const counts = await Promise.all(Array.from({ length: Number(clients) }, (_, i) => one(i)));
const seconds = (performance.now() - start) / 1000;
const total = counts.reduce((a, b) => a + b, 0);
console.log(`${clients} clients: ${total} tokens in ${seconds.toFixed(1)} s = ${(total / seconds).toFixed(2)} tok/s`);
