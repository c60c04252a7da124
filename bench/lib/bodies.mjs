// The canned upstream answers (OpenAI chat.completion JSON, OpenAI SSE streams of N chunks,
// Anthropic Messages JSON and SSE) and the request bodies every client sends. Shapes follow the
// providers' API references; content is deterministic so runs compare byte for byte.

export const MODEL = "gpt-4o-mini-2024-07-18";
export const CLAUDE = "claude-3-5-haiku-20241022";

const WORDS = "The quick brown fox jumps over the lazy dog while the gateway streams tokens".split(" ");
const word = (i) => `${WORDS[i % WORDS.length]} `;

/** A chat.completion (≈ 550 bytes), as OpenAI's API returns it. */
export function openaiJson() {
  return JSON.stringify({
    id: "chatcmpl-bench0000000000000000000001",
    object: "chat.completion",
    created: 1700000000,
    model: MODEL,
    choices: [
      {
        index: 0,
        message: {
          role: "assistant",
          content: Array.from({ length: 30 }, (_, i) => word(i)).join("").trim(),
          refusal: null,
        },
        logprobs: null,
        finish_reason: "stop",
      },
    ],
    usage: { prompt_tokens: 12, completion_tokens: 30, total_tokens: 42 },
    system_fingerprint: "fp_bench",
  });
}

/**
 * An OpenAI chat.completion.chunk SSE stream of exactly `n` chunks (the first carries the role,
 * the last the finish_reason and usage), then `data: [DONE]`.
 */
export function openaiSse(n) {
  const parts = [];
  for (let i = 0; i < n; i++) {
    const delta = i === 0 ? { role: "assistant", content: "" } : i === n - 1 ? {} : { content: word(i) };
    const chunk = {
      id: "chatcmpl-bench0000000000000000000001",
      object: "chat.completion.chunk",
      created: 1700000000,
      model: MODEL,
      system_fingerprint: "fp_bench",
      choices: [{ index: 0, delta, logprobs: null, finish_reason: i === n - 1 ? "stop" : null }],
    };
    if (i === n - 1) chunk.usage = { prompt_tokens: 12, completion_tokens: n - 2, total_tokens: n + 10 };
    parts.push(`data: ${JSON.stringify(chunk)}\n\n`);
  }
  parts.push("data: [DONE]\n\n");
  return parts.join("");
}

/** An Anthropic Messages response (non-stream). */
export function anthropicJson() {
  return JSON.stringify({
    id: "msg_bench0000000000000001",
    type: "message",
    role: "assistant",
    model: CLAUDE,
    content: [{ type: "text", text: Array.from({ length: 30 }, (_, i) => word(i)).join("").trim() }],
    stop_reason: "end_turn",
    stop_sequence: null,
    usage: { input_tokens: 12, output_tokens: 30 },
  });
}

/**
 * An Anthropic Messages SSE stream whose text arrives in `n - 2` content_block_delta events, so a
 * translating client yields the same `n` OpenAI chunks as openaiSse(n) (role, deltas, finish).
 */
export function anthropicSse(n) {
  const ev = (type, data) => `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`;
  const parts = [
    ev("message_start", {
      message: {
        id: "msg_bench0000000000000001",
        type: "message",
        role: "assistant",
        model: CLAUDE,
        content: [],
        stop_reason: null,
        stop_sequence: null,
        usage: { input_tokens: 12, output_tokens: 1 },
      },
    }),
    ev("content_block_start", { index: 0, content_block: { type: "text", text: "" } }),
  ];
  for (let i = 1; i < n - 1; i++) {
    parts.push(ev("content_block_delta", { index: 0, delta: { type: "text_delta", text: word(i) } }));
  }
  parts.push(ev("content_block_stop", { index: 0 }));
  parts.push(ev("message_delta", { delta: { stop_reason: "end_turn", stop_sequence: null }, usage: { output_tokens: n - 2 } }));
  parts.push(ev("message_stop", {}));
  return parts.join("");
}

/** The chat request every gateway client sends (the model name is the gateway's alias). */
export function chatRequest(model, stream) {
  const body = {
    model,
    messages: [
      { role: "system", content: "You are a terse assistant." },
      { role: "user", content: "Say something about foxes and dogs." },
    ],
    max_tokens: 64,
  };
  if (stream) body.stream = true;
  return JSON.stringify(body);
}
