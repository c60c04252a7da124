// Types for the `edgellm` package: OpenAI's chat completion shapes, LiteLLM's call options,
// and the error classes. Payload fields are snake_case, exactly as on the wire.

// -- Requests

export type Role = "system" | "developer" | "user" | "assistant" | "tool" | "function";

export interface TextPart {
  type: "text";
  text: string;
}
export interface ImagePart {
  type: "image_url";
  image_url: { url: string; detail?: "auto" | "low" | "high" };
}
export type ContentPart = TextPart | ImagePart | { type: string; [key: string]: unknown };

export interface ToolCall {
  id: string;
  type: "function";
  function: { name: string; arguments: string };
}

export interface ChatMessage {
  role: Role | (string & {});
  content?: string | ContentPart[] | null;
  name?: string;
  tool_calls?: ToolCall[];
  tool_call_id?: string;
  [key: string]: unknown;
}

export interface Tool {
  type: "function";
  function: { name: string; description?: string; parameters?: Record<string, unknown>; strict?: boolean };
}

/** LiteLLM's call options, accepted by every call (never sent to the provider). */
export interface CallOptions {
  /** The provider key; else the provider's environment variable (`process.env` or `setEnv`). */
  api_key?: string;
  /** Endpoint base; alias `base_url`. */
  api_base?: string;
  base_url?: string;
  api_version?: string;
  /** Seconds to wait for the response headers and for each streamed chunk. */
  timeout?: number;
  /** Retries of retryable errors: at most `num_retries + 1` requests. Alias `max_retries`. */
  num_retries?: number;
  max_retries?: number;
  /** Extra request headers. Alias `extra_headers`. */
  headers?: Record<string, string>;
  extra_headers?: Record<string, string>;
  /** Drop parameters the provider does not support instead of raising `UnsupportedParamsError`. */
  drop_params?: boolean;
  /** Answer without any network: a response object (for chat also a text); an error class
   *  name such as `"litellm.RateLimitError"` raises that error. */
  mock_response?: unknown;
  /** Use this provider and send `model` unchanged. */
  custom_llm_provider?: string;
  metadata?: Record<string, unknown>;
  /** Callbacks for this call (functions or logger names), besides `setCallbacks`'. */
  success_callback?: (Callback | string)[];
  failure_callback?: (Callback | string)[];
  [key: string]: unknown;
}

/** OpenAI's chat parameters plus LiteLLM's call options. */
export interface CompletionParams extends CallOptions {
  /** `<provider>/<model>` (e.g. `anthropic/claude-3-5-sonnet-20241022`), or a well-known bare name. */
  model: string;
  messages: ChatMessage[];
  stream?: boolean | null;
  stream_options?: { include_usage?: boolean } | null;
  temperature?: number | null;
  top_p?: number | null;
  n?: number | null;
  stop?: string | string[] | null;
  max_tokens?: number | null;
  max_completion_tokens?: number | null;
  presence_penalty?: number | null;
  frequency_penalty?: number | null;
  logit_bias?: Record<string, number> | null;
  logprobs?: boolean | null;
  top_logprobs?: number | null;
  user?: string | null;
  seed?: number | null;
  tools?: Tool[] | null;
  tool_choice?: "none" | "auto" | "required" | { type: "function"; function: { name: string } } | null;
  parallel_tool_calls?: boolean | null;
  response_format?: { type: "text" | "json_object" | "json_schema"; json_schema?: Record<string, unknown> } | null;
  reasoning_effort?: "minimal" | "low" | "medium" | "high" | (string & {}) | null;
  /** Answer with this text (or `chat.completion` object) without any network; an error class
   *  name such as `"litellm.RateLimitError"` raises that error. */
  mock_response?: string | ChatCompletion;
}

/** `embedding()`: OpenAI's embeddings parameters plus LiteLLM's call options. */
export interface EmbeddingParams extends CallOptions {
  /** `<provider>/<model>`, e.g. `openai/text-embedding-3-small`, `cohere/embed-english-v3.0`. */
  model: string;
  /** Text, texts, token ids or lists of token ids. */
  input: string | string[] | number[] | number[][];
  dimensions?: number | null;
  /** `"base64"`: little-endian float32 vectors as base64 (also for providers that only return floats). */
  encoding_format?: "float" | "base64" | null;
  user?: string | null;
  /** Provider-specific (Cohere, Vertex AI, NVIDIA NIM, Voyage): `search_query`, `search_document`, ... */
  input_type?: string;
  mock_response?: string | EmbeddingResponse;
}

/** `imageGeneration()`: OpenAI's image parameters plus LiteLLM's call options. */
export interface ImageGenerationParams extends CallOptions {
  /** Defaults to `dall-e-2`, as OpenAI's API does. */
  model?: string;
  prompt: string;
  n?: number | null;
  size?: string | null;
  quality?: string | null;
  style?: string | null;
  response_format?: "url" | "b64_json" | null;
  user?: string | null;
  mock_response?: string | ImageResponse;
}

/** `textCompletion()`: OpenAI's legacy completions parameters plus LiteLLM's call options. */
export interface TextCompletionParams extends CallOptions {
  model: string;
  /** Text(s), or token ids (only for models served on a native completions endpoint). */
  prompt: string | string[] | number[] | number[][];
  stream?: boolean | null;
  stream_options?: { include_usage?: boolean } | null;
  max_tokens?: number | null;
  temperature?: number | null;
  top_p?: number | null;
  n?: number | null;
  stop?: string | string[] | null;
  presence_penalty?: number | null;
  frequency_penalty?: number | null;
  logit_bias?: Record<string, number> | null;
  /** Top log-probabilities per token (0–5). */
  logprobs?: number | null;
  seed?: number | null;
  user?: string | null;
  /** Native completions endpoints only (through chat: `UnsupportedParamsError` unless `drop_params`). */
  best_of?: number | null;
  echo?: boolean | null;
  suffix?: string | null;
  mock_response?: string | TextCompletion;
}

/** `moderation()`: OpenAI's moderation parameters plus LiteLLM's call options. */
export interface ModerationParams extends CallOptions {
  input: string | string[] | Record<string, unknown>[];
  /** Defaults to `omni-moderation-latest`. */
  model?: string;
  mock_response?: string | ModerationResponse;
}

/** `rerank()`: Cohere's rerank parameters plus LiteLLM's call options. */
export interface RerankParams extends CallOptions {
  /** e.g. `cohere/rerank-v3.5`, `jina_ai/jina-reranker-v2-base-multilingual`, `voyage/rerank-2`. */
  model: string;
  query: string;
  documents: (string | { text: string; [key: string]: unknown })[];
  top_n?: number | null;
  return_documents?: boolean | null;
  rank_fields?: string[] | null;
  max_chunks_per_doc?: number | null;
  max_tokens_per_doc?: number | null;
  mock_response?: string | RerankResponse;
}

// -- Responses

export type FinishReason = "stop" | "length" | "tool_calls" | "content_filter" | "function_call" | (string & {});

export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  prompt_tokens_details?: { cached_tokens?: number; audio_tokens?: number; [key: string]: unknown };
  completion_tokens_details?: { reasoning_tokens?: number; audio_tokens?: number; [key: string]: unknown };
  [key: string]: unknown;
}

export interface AssistantMessage {
  role: "assistant";
  content: string | null;
  tool_calls?: ToolCall[];
  reasoning_content?: string;
  refusal?: string | null;
  [key: string]: unknown;
}

export interface ChatCompletion {
  id: string;
  object: "chat.completion";
  created: number;
  model: string;
  choices: { index: number; message: AssistantMessage; finish_reason: FinishReason | null; logprobs?: unknown }[];
  usage?: Usage;
  system_fingerprint?: string;
  [key: string]: unknown;
}

export interface ToolCallDelta {
  index: number;
  id?: string;
  type?: "function";
  function?: { name?: string; arguments?: string };
}

export interface ChatCompletionChunk {
  id: string;
  object: "chat.completion.chunk";
  created: number;
  model: string;
  choices: {
    index: number;
    delta: { role?: "assistant"; content?: string | null; tool_calls?: ToolCallDelta[]; reasoning_content?: string; [key: string]: unknown };
    finish_reason: FinishReason | null;
    logprobs?: unknown;
  }[];
  /** Only on the last chunk, and only with `stream_options: { include_usage: true }`. */
  usage?: Usage;
  system_fingerprint?: string;
  [key: string]: unknown;
}

export interface Embedding {
  object: "embedding";
  index: number;
  /** Floats, or base64 with `encoding_format: "base64"`. */
  embedding: number[] | string;
  [key: string]: unknown;
}

export interface EmbeddingResponse {
  object: "list";
  data: Embedding[];
  model: string;
  usage: { prompt_tokens: number; total_tokens: number; [key: string]: unknown };
  [key: string]: unknown;
}

export interface ImageResponse {
  created: number;
  /** `url` or `b64_json` (providers that only return bytes answer with `b64_json`). */
  data: { url?: string; b64_json?: string; revised_prompt?: string; [key: string]: unknown }[];
  /** gpt-image models. */
  usage?: { input_tokens: number; output_tokens: number; total_tokens: number; [key: string]: unknown };
  [key: string]: unknown;
}

/** A legacy completion, or one chunk of a streamed one (`text` is then the new piece). */
export interface TextCompletion {
  id: string;
  object: "text_completion";
  created: number;
  model: string;
  choices: { text: string; index: number; logprobs: unknown; finish_reason: FinishReason | null }[];
  usage?: Usage;
  system_fingerprint?: string;
  [key: string]: unknown;
}

export interface ModerationResponse {
  id: string;
  model: string;
  results: {
    flagged: boolean;
    categories: Record<string, boolean>;
    category_scores: Record<string, number>;
    [key: string]: unknown;
  }[];
  [key: string]: unknown;
}

export interface RerankResponse {
  id: string;
  /** Most relevant first; `index` is the document's position in the request. */
  results: { index: number; relevance_score: number; document?: { text: string } }[];
  meta?: Record<string, unknown>;
  [key: string]: unknown;
}

/** Where the call went (LiteLLM's `_hidden_params`). */
export interface HiddenParams {
  custom_llm_provider: string;
  model: string;
  api_base: string | null;
  /** USD, or `null` when no price is known. On a stream it is set when the stream ended. */
  response_cost: number | null;
  /** Upstream requests sent (1 + retries). */
  attempts: number;
}

/** `_hidden_params` of a Router call: also the deployment and the router's headers. */
export interface RoutedHiddenParams extends HiddenParams {
  /** `model_info.id` of the deployment that answered. */
  model_id: string;
  /** The model group that answered (another one after a fallback). */
  model_group: string;
  additional_headers: Record<string, string | number | null>;
}

export type CompletionResponse = ChatCompletion & { _hidden_params: HiddenParams };
export type WithHiddenParams<T, H = HiddenParams> = T & { _hidden_params: H };

/** A stream of chunks: a standard `ReadableStream` that is async-iterable in every runtime.
 *  Cancelling it, or leaving a `for await` loop early, aborts the HTTP request. */
export type CompletionStream = ReadableStream<ChatCompletionChunk> &
  AsyncIterable<ChatCompletionChunk> & { readonly _hidden_params: HiddenParams };

/** A stream of `text_completion` chunks, like `CompletionStream`. */
export type TextCompletionStream<H = HiddenParams> = ReadableStream<TextCompletion> &
  AsyncIterable<TextCompletion> & { readonly _hidden_params: H };

// -- Functions

/** A chat completion in OpenAI's format, for any supported provider. */
export function completion(params: CompletionParams & { stream: true }): Promise<CompletionStream>;
export function completion(params: CompletionParams & { stream?: false | null }): Promise<CompletionResponse>;
export function completion(params: CompletionParams): Promise<CompletionResponse | CompletionStream>;

/** Embeddings in OpenAI's format (LiteLLM's `embedding`). */
export function embedding(params: EmbeddingParams): Promise<WithHiddenParams<EmbeddingResponse>>;

/** Image generation in OpenAI's format (LiteLLM's `image_generation`). */
export function imageGeneration(params: ImageGenerationParams): Promise<WithHiddenParams<ImageResponse>>;

/** A legacy text completion (LiteLLM's `text_completion`): native where the provider has a
 *  completions endpoint for the model, else through chat. */
export function textCompletion(params: TextCompletionParams & { stream: true }): Promise<TextCompletionStream>;
export function textCompletion(params: TextCompletionParams & { stream?: false | null }): Promise<WithHiddenParams<TextCompletion>>;
export function textCompletion(params: TextCompletionParams): Promise<WithHiddenParams<TextCompletion> | TextCompletionStream>;

/** Moderation in OpenAI's format (LiteLLM's `moderation`). */
export function moderation(params: ModerationParams): Promise<WithHiddenParams<ModerationResponse>>;

/** Rerank in Cohere's format (LiteLLM's `rerank`). `response_cost` is `null` unless priced by
 *  a per-second override: the price table has no per-search prices. */
export function rerank(params: RerankParams): Promise<WithHiddenParams<RerankResponse>>;

/** Registers environment variables (keys, bases) for runtimes without `process.env`. Merges with
 *  earlier calls; `null`, `undefined` or `""` removes a name; non-string values are ignored. */
export function setEnv(vars: Record<string, unknown>): void;

/** The OpenAI parameters the provider of `model` accepts, or `null` for an unknown provider. */
export function getSupportedOpenAIParams(model: string, customLlmProvider?: string): string[] | null;

/** LiteLLM's `stream_chunk_builder`: the `chat.completion` rebuilt from every chunk of one
 *  stream, in order. Usage is the stream's own (`stream_options: { include_usage: true }`). */
export function streamChunkBuilder(chunks: ChatCompletionChunk[]): ChatCompletion;

/** The edgellm version. */
export function version(): string;

// -- Cost

/** LiteLLM's `completion_cost`: USD for a response. Throws `NotFoundError` for a model
 *  without a price. */
export function completionCost(params: {
  completion_response: ChatCompletion | CompletionResponse;
  model?: string;
  custom_llm_provider?: string;
  usage?: Usage;
  input_cost_per_token?: number;
  output_cost_per_token?: number;
}): number;

/** LiteLLM's `cost_per_token`: `[prompt_cost_usd, completion_cost_usd]`. */
export function costPerToken(
  model: string,
  promptTokens: number,
  completionTokens: number,
  customLlmProvider?: string,
): [number, number];

/** LiteLLM's `get_model_info`: prices and limits. Throws `NotFoundError` for an unknown model. */
export function getModelInfo(model: string, customLlmProvider?: string): Record<string, unknown>;

/** LiteLLM's `register_model`: adds or updates prices; returns the keys registered. */
export function registerModel(models: Record<string, Record<string, unknown>>): string[];

/** LiteLLM's BudgetManager: per-user budgets (USD) over completion costs. */
export class BudgetManager {
  constructor();
  createBudget(totalBudget: number, user: string, duration?: string | null): void;
  projectedCost(params: CompletionParams, user: string): number;
  reserve(user: string, params: CompletionParams): number;
  settle(user: string, reservedUsd: number, actualUsd: number, model?: string | null): void;
  updateCost(user: string, completionObj: CompletionResponse): number;
  getCurrentCost(user: string): number;
  getTotalBudget(user: string): number;
  getModelCost(user: string): Record<string, number>;
  isValidUser(user: string): boolean;
  getUsers(): string[];
  resetCost(user: string): void;
}

// -- Router

/** One deployment of a model group (LiteLLM's `model_list` entry). */
export interface Deployment {
  model_name: string;
  litellm_params: { model: string; api_key?: string; api_base?: string; [key: string]: unknown };
  model_info?: Record<string, unknown>;
  [key: string]: unknown;
}

/** LiteLLM's Router settings. */
export interface RouterConfig {
  model_list: Deployment[];
  routing_strategy?: string;
  num_retries?: number;
  fallbacks?: Record<string, string[]>[];
  context_window_fallbacks?: Record<string, string[]>[];
  content_policy_fallbacks?: Record<string, string[]>[];
  allowed_fails?: number;
  cooldown_time?: number;
  [key: string]: unknown;
}

/** LiteLLM's Router: load balancing, retries, fallbacks and cooldowns across deployments. */
export class Router {
  constructor(config: RouterConfig);
  completion(params: CompletionParams & { stream: true }): Promise<CompletionStream>;
  completion(params: CompletionParams & { stream?: false | null }): Promise<CompletionResponse>;
  completion(params: CompletionParams): Promise<CompletionResponse | CompletionStream>;
  /** LiteLLM's `router.embedding` / `aembedding`: `model` is a model group. */
  embedding(params: EmbeddingParams): Promise<WithHiddenParams<EmbeddingResponse, RoutedHiddenParams>>;
  /** LiteLLM's `router.image_generation`. */
  imageGeneration(params: ImageGenerationParams & { model: string }): Promise<WithHiddenParams<ImageResponse, RoutedHiddenParams>>;
  /** LiteLLM's `router.text_completion`; streams fall back before their first chunk. */
  textCompletion(params: TextCompletionParams & { stream: true }): Promise<TextCompletionStream<RoutedHiddenParams>>;
  textCompletion(params: TextCompletionParams & { stream?: false | null }): Promise<WithHiddenParams<TextCompletion, RoutedHiddenParams>>;
  textCompletion(params: TextCompletionParams): Promise<WithHiddenParams<TextCompletion, RoutedHiddenParams> | TextCompletionStream<RoutedHiddenParams>>;
  /** LiteLLM's `router.amoderation`. */
  moderation(params: ModerationParams & { model: string }): Promise<WithHiddenParams<ModerationResponse, RoutedHiddenParams>>;
  /** LiteLLM's `router.arerank`. */
  rerank(params: RerankParams): Promise<WithHiddenParams<RerankResponse, RoutedHiddenParams>>;
  /** The model group names. */
  modelNames(): string[];
  /** Deployments cooling down. */
  cooldowns(): unknown;
  /** Settings that were read but have no effect here. */
  warnings(): string[];
}

// -- Callbacks and logging

/** A callback gets LiteLLM's `kwargs` (model, messages, call_type, response_cost,
 *  standard_logging_object, …), the response (or the error, for failure callbacks), and the
 *  start and end times. `call_type` is `completion`, `embedding`, `image_generation`,
 *  `text_completion`, `moderation` or `rerank`; for the last five `messages` is the call's
 *  input (`input`, `prompt` or `query`), as in LiteLLM. */
export type Callback = (kwargs: Record<string, unknown>, response?: unknown, startTime?: unknown, endTime?: unknown) => unknown;

/** Module-wide callbacks: functions, or logger names (see `loggingIntegrations()`). */
export function setCallbacks(config: {
  success_callback?: (Callback | string)[];
  failure_callback?: (Callback | string)[];
  [key: string]: unknown;
}): void;

/** Module-wide logging settings (logger credentials, timeouts, batching). */
export function setLoggingSettings(settings: Record<string, unknown>): void;

/** Resolves when every call logged so far was delivered, to the delivery reports. Never rejects.
 *  In a Worker: `ctx.waitUntil(flushLogging())`. */
export function flushLogging(): Promise<Record<string, unknown>[]>;

/** The logger names callbacks recognize. This package delivers only to `webhook`; the others
 *  are reported by `flushLogging()` as not in this build (cargo feature `integrations`, or the
 *  edgellm gateway). */
export function loggingIntegrations(): string[];

// -- Errors

export interface APIErrorFields {
  status?: number;
  type?: string | null;
  code?: string | null;
  param?: string | null;
  llm_provider?: string | null;
  model?: string | null;
  retryAfterMs?: number | null;
}

/** Base class of every error an edgellm call raises. */
export class APIError extends Error {
  constructor(message: string, fields?: APIErrorFields);
  /** The upstream HTTP status, or the status this kind of error maps to. */
  status: number | undefined;
  /** OpenAI's `error.type` (e.g. `invalid_request_error`). */
  type: string | null;
  /** The provider's error code, else a stable code for the kind (e.g. `rate_limit_exceeded`). */
  code: string | null;
  param: string | null;
  llm_provider: string | null;
  model: string | null;
  /** How long the provider asked to wait before retrying, if it said. */
  retryAfterMs: number | null;
  /** OpenAI's error body. */
  error: { message: string; type: string | null; param: string | null; code: string | null };
}
export class BadRequestError extends APIError {}
export class ContextWindowExceededError extends BadRequestError {}
export class ContentPolicyViolationError extends BadRequestError {}
export class UnsupportedParamsError extends BadRequestError {}
export class AuthenticationError extends APIError {}
export class BudgetExceededError extends APIError {}
export class PermissionDeniedError extends APIError {}
export class NotFoundError extends APIError {}
export class UnprocessableEntityError extends APIError {}
export class RateLimitError extends APIError {}
export class InternalServerError extends APIError {}
export class BadGatewayError extends InternalServerError {}
export class ServiceUnavailableError extends InternalServerError {}
export class APIConnectionError extends APIError {}
export class APITimeoutError extends APIConnectionError {}
export class APIUserAbortError extends APIError {}
/** LiteLLM's name for `APITimeoutError`. */
export const Timeout: typeof APITimeoutError;
/** Every error class by name. */
export const ERROR_CLASSES: Readonly<Record<string, typeof APIError>>;
