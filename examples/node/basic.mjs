// A chat completion and a streamed one with edgellm in Node (≥ 20).
//
//   cd examples/node && npm install        # links ../../pkg (build it first: bash scripts/build-pkg.sh)
//   OPENAI_API_KEY=sk-... node basic.mjs
//   ANTHROPIC_API_KEY=sk-ant-... MODEL=anthropic/claude-3-5-haiku-20241022 node basic.mjs
//
// Keys come from process.env (the provider's usual variable) or the `api_key` parameter;
// `OPENAI_API_BASE` and friends redirect a provider, as in LiteLLM.
import { APIError, RateLimitError, completion } from "edgellm";

const model = process.env.MODEL ?? "openai/gpt-4o-mini";
const messages = [{ role: "user", content: "Write a haiku about computing at the edge." }];

try {
  const r = await completion({ model, messages, max_tokens: 100 });
  console.log(r.choices[0].message.content);
  console.log(`(${r.usage?.total_tokens} tokens via ${r._hidden_params.custom_llm_provider})`);

  process.stdout.write("streamed: ");
  for await (const chunk of await completion({ model, messages, max_tokens: 100, stream: true })) {
    process.stdout.write(chunk.choices[0]?.delta?.content ?? "");
  }
  process.stdout.write("\n");
} catch (e) {
  if (e instanceof RateLimitError) console.error(`rate limited, retry in ${e.retryAfterMs ?? "?"} ms`);
  else if (e instanceof APIError) console.error(`${e.name} (${e.status}) from ${e.llm_provider}: ${e.message}`);
  else throw e;
  process.exitCode = 1;
}
