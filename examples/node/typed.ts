// The same API from TypeScript: `npx tsc --noEmit` type-checks this against pkg/index.d.ts.
import {
  APIError, Router, completion, embedding, imageGeneration, moderation, rerank, textCompletion,
  type ChatCompletionChunk, type TextCompletion,
} from "edgellm";

export async function main(): Promise<string> {
  const messages = [{ role: "user" as const, content: "Hello" }];
  const r = await completion({ model: "openai/gpt-4o", messages, mock_response: "Hi!" });
  const text: string | null = r.choices[0].message.content;
  const provider: string = r._hidden_params.custom_llm_provider;

  let streamed = "";
  const stream = await completion({ model: "openai/gpt-4o", messages, stream: true, mock_response: "Hi!" });
  for await (const chunk of stream) {
    const c: ChatCompletionChunk = chunk;
    streamed += c.choices[0]?.delta.content ?? "";
  }
  try {
    await completion({ model: "openai/gpt-4o", messages, mock_response: "litellm.RateLimitError" });
  } catch (e) {
    if (e instanceof APIError) return `${e.name} ${e.status} ${e.retryAfterMs ?? ""}`;
  }
  return `${text} ${provider} ${streamed}`;
}

/** One call of each endpoint beyond chat, directly and through a Router. */
export async function endpoints(): Promise<string> {
  const e = await embedding({ model: "openai/text-embedding-3-small", input: ["a", "b"], dimensions: 256 });
  const vector: number[] | string = e.data[0].embedding;
  const cost: number | null = e._hidden_params.response_cost;

  const img = await imageGeneration({ model: "openai/dall-e-3", prompt: "a fox", size: "1024x1024", quality: "hd" });
  const url: string | undefined = img.data[0].url;

  const t = await textCompletion({ model: "openai/gpt-3.5-turbo-instruct", prompt: "Say hi", max_tokens: 5 });
  let piece = t.choices[0].text;
  for await (const chunk of await textCompletion({ model: "openai/gpt-4o-mini", prompt: "Say hi", stream: true })) {
    const c: TextCompletion = chunk;
    piece += c.choices[0]?.text ?? "";
  }

  const m = await moderation({ input: "some text" });
  const flagged: boolean = m.results[0].flagged;

  const rr = await rerank({ model: "cohere/rerank-v3.5", query: "capital", documents: ["Paris", "a cat"], top_n: 1 });
  const best: number = rr.results[0].index;

  const router = new Router({
    model_list: [{ model_name: "embed", litellm_params: { model: "openai/text-embedding-3-small" } }],
    num_retries: 2,
  });
  const routed = await router.embedding({ model: "embed", input: "hi" });
  const group: string = routed._hidden_params.model_group;
  const routedText = await router.textCompletion({ model: "embed", prompt: "hi", stream: true });
  const routedDeployment: string = routedText._hidden_params.model_id;
  await router.imageGeneration({ model: "img", prompt: "a fox" });
  await router.moderation({ model: "mod", input: "x" });
  await router.rerank({ model: "rr", query: "q", documents: [{ text: "a" }] });

  return `${vector.length} ${cost} ${url} ${piece} ${flagged} ${best} ${group} ${routedDeployment}`;
}
