// The same API from TypeScript: `npx tsc --noEmit` type-checks this against pkg/index.d.ts.
import { APIError, completion, type ChatCompletionChunk } from "edgellm";

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
