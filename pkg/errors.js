// Error classes thrown by edgellm, named and shaped like the OpenAI SDK's (and LiteLLM's).
// Every class extends APIError, so `catch (e) { if (e instanceof APIError) ... }` catches them
// all; 5xx classes extend InternalServerError as OpenAI's SDK reports any 5xx that way.

/** Base class: every error raised by an edgellm call. */
export class APIError extends Error {
  /**
   * @param {string} message
   * @param {object} [fields] status, type, code, param, llm_provider, model, retryAfterMs
   */
  constructor(message, fields = {}) {
    super(message);
    this.status = fields.status ?? undefined;
    this.type = fields.type ?? null;
    this.code = fields.code ?? null;
    this.param = fields.param ?? null;
    this.llm_provider = fields.llm_provider ?? null;
    this.model = fields.model ?? null;
    this.retryAfterMs = fields.retryAfterMs ?? null;
    // OpenAI's SDK keeps the error body here.
    this.error = { message, type: this.type, param: this.param, code: this.code };
  }
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
/** LiteLLM's name for a timeout (`litellm.Timeout`). */
export const Timeout = APITimeoutError;

export const ERROR_CLASSES = Object.freeze({
  APIError, BadRequestError, ContextWindowExceededError, ContentPolicyViolationError,
  UnsupportedParamsError, AuthenticationError, BudgetExceededError, PermissionDeniedError,
  NotFoundError, UnprocessableEntityError, RateLimitError, InternalServerError, BadGatewayError,
  ServiceUnavailableError, APIConnectionError, APITimeoutError, APIUserAbortError,
});

// `name` is set on the prototype and the class, not read from the class, so the minified
// bundles (scripts/build-pkg.sh) keep both `err.name` and `err.constructor.name`.
for (const [name, cls] of Object.entries(ERROR_CLASSES)) {
  Object.defineProperty(cls.prototype, "name", { value: name, writable: true, configurable: true });
  Object.defineProperty(cls, "name", { value: name });
}
