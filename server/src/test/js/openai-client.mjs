// The official openai npm client against live nemotron4j servers (started by OpenAiNodeClientTest).
// GREETING_URL, TOOLS_URL and SAMPLED_URL point at servers with the scripted greeting model, the scripted two-call
// model and the tiny golden model. Exits non-zero on the first failed check.
import assert from "node:assert/strict";
import OpenAI from "openai";

const GREETING = "Greetings, stranger. The forge is hot today — mind the sparks! 🔥";
const client = (url) => new OpenAI({ baseURL: `${url}/v1`, apiKey: "unused", maxRetries: 0 });
const greeting = client(process.env.GREETING_URL);
const tools = client(process.env.TOOLS_URL);
const sampled = client(process.env.SAMPLED_URL);
const messages = [{ role: "user", content: "Can you fix my sword?" }];
const toolList = ["open_door", "say"].map((name) => ({
  type: "function",
  function: { name, parameters: { type: "object", properties: {} } },
}));

async function check(name, fn) {
  await fn();
  console.log(`ok ${name}`);
}

await check("models list", async () => {
  const models = [];
  for await (const model of greeting.models.list()) models.push(model.id);
  assert.deepEqual(models, ["greeting"]);
});

await check("plain chat with usage", async () => {
  const r = await greeting.chat.completions.create({ model: "greeting", messages });
  assert.equal(r.choices[0].message.content, GREETING);
  assert.equal(r.choices[0].finish_reason, "stop");
  assert.equal(r.usage.completion_tokens, 8);
  assert.equal(r.usage.total_tokens, r.usage.prompt_tokens + 8);
});

await check("stop", async () => {
  const r = await greeting.chat.completions.create({ model: "greeting", messages, stop: ["forge"] });
  assert.equal(r.choices[0].message.content, "Greetings, stranger. The ");
});

await check("streaming with usage", async () => {
  const stream = await greeting.chat.completions.create({
    model: "greeting", messages, stream: true, stream_options: { include_usage: true },
  });
  let text = "";
  let usage = null;
  let finish = null;
  for await (const chunk of stream) {
    if (chunk.usage) usage = chunk.usage;
    const choice = chunk.choices[0];
    if (choice) {
      text += choice.delta.content ?? "";
      finish = choice.finish_reason ?? finish;
    }
  }
  assert.equal(text, GREETING);
  assert.equal(finish, "stop");
  assert.equal(usage.completion_tokens, 8);
});

await check("seed reproducibility", async () => {
  const ask = (seed) => sampled.chat.completions.create({
    model: "tiny-nemotron-q8_0", messages, temperature: 1.2, max_tokens: 24, seed,
  }).then((r) => r.choices[0].message.content);
  const [a, b, c] = [await ask(42), await ask(42), await ask(43)];
  assert.equal(a, b);
  assert.notEqual(a, c);
});

await check("tool calls", async () => {
  const r = await tools.chat.completions.create({ model: "toolcall-two", messages, tools: toolList });
  const calls = r.choices[0].message.tool_calls;
  assert.equal(r.choices[0].finish_reason, "tool_calls");
  assert.deepEqual(calls.map((c) => c.function.name), ["open_door", "say"]);
  assert.deepEqual(JSON.parse(calls[1].function.arguments), { text: "Stand back!" });
  assert.match(calls[0].id, /^call_/);
});

await check("streamed tool calls", async () => {
  const stream = await tools.chat.completions.create({
    model: "toolcall-two", messages, tools: toolList, stream: true,
  });
  let content = "";
  const names = [];
  for await (const chunk of stream) {
    const delta = chunk.choices[0]?.delta ?? {};
    content += delta.content ?? "";
    for (const call of delta.tool_calls ?? []) names[call.index] = call.function.name;
  }
  assert.equal(content, "");
  assert.deepEqual(names, ["open_door", "say"]);
});

await check("errors", async () => {
  await assert.rejects(greeting.chat.completions.create({ model: "gpt-4o", messages }),
    (e) => e instanceof OpenAI.NotFoundError && /gpt-4o/.test(e.message));
  await assert.rejects(greeting.chat.completions.create({ model: "greeting", messages: [] }),
    (e) => e instanceof OpenAI.BadRequestError && e.param === "messages");
  await assert.rejects(greeting.chat.completions.create({ model: "greeting", messages, n: 3 }),
    (e) => e instanceof OpenAI.BadRequestError);
});

console.log("all openai client checks passed");
