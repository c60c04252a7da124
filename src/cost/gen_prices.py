#!/usr/bin/env python3
"""Builds src/cost/prices.tsv from a copy of LiteLLM's model_prices_and_context_window.json.

Usage: python3 gen_prices.py path/to/model_prices_and_context_window.json > src/cost/prices.tsv

The JSON is public data (MIT); we keep only the providers edgellm supports, only chat, embedding,
image, audio, rerank and moderation models, and only the price and limit fields our cost code reads.
Hand-maintained rows (models newer than the snapshot) live in EXTRA below. Review the diff.
"""
import json, sys, math

PROVIDER_MAP = {
    "openai": "openai", "text-completion-openai": "openai", "anthropic": "anthropic",
    "azure": "azure", "azure_ai": "azure_ai", "gemini": "gemini",
    "vertex_ai-language-models": "vertex_ai", "vertex_ai-anthropic_models": "vertex_ai",
    "vertex_ai-embedding-models": "vertex_ai", "vertex_ai-mistral_models": "vertex_ai",
    "vertex_ai-llama_models": "vertex_ai", "vertex_ai-image-models": "vertex_ai",
    "vertex_ai-deepseek_models": "vertex_ai", "vertex_ai-qwen_models": "vertex_ai",
    "vertex_ai-ai21_models": "vertex_ai", "vertex_ai-openai_models": "vertex_ai",
    "bedrock": "bedrock", "bedrock_converse": "bedrock", "mistral": "mistral", "codestral": "codestral",
    "groq": "groq", "xai": "xai", "deepseek": "deepseek", "together_ai": "together_ai",
    "fireworks_ai": "fireworks_ai", "fireworks_ai-embedding-models": "fireworks_ai",
    "openrouter": "openrouter", "perplexity": "perplexity", "cerebras": "cerebras",
    "deepinfra": "deepinfra", "cohere": "cohere", "cohere_chat": "cohere", "voyage": "voyage",
    "sambanova": "sambanova", "nvidia_nim": "nvidia_nim", "cloudflare": "cloudflare",
    "databricks": "databricks", "watsonx": "watsonx", "ai21": "ai21", "moonshot": "moonshot",
    "dashscope": "dashscope", "hyperbolic": "hyperbolic", "jina_ai": "jina_ai",
    "lambda_ai": "lambda_ai", "nscale": "nscale", "ovhcloud": "ovhcloud",
    "friendliai": "friendliai", "gradient_ai": "gradient_ai",
}
MODES = {"chat", "completion", "embedding", "image_generation", "audio_transcription",
         "audio_speech", "moderation", "rerank"}
# Provider prefixes LiteLLM puts in its keys, stripped before we add our own.
KEY_PREFIXES = ["vertex_ai/", "bedrock/", "azure/", "azure_ai/", "gemini/", "mistral/", "codestral/",
                "groq/", "xai/", "deepseek/", "together_ai/", "fireworks_ai/", "openrouter/",
                "perplexity/", "cerebras/", "deepinfra/", "voyage/", "sambanova/", "nvidia_nim/",
                "cloudflare/", "databricks/", "watsonx/", "moonshot/", "dashscope/", "hyperbolic/",
                "openai/", "anthropic/", "cohere/", "ai21/", "jina_ai/", "lambda_ai/",
                "nscale/", "ovhcloud/", "friendliai/", "gradient_ai/"]

def skip(key, v, prov):
    if key.startswith("ft:") or "realtime" in key or "/eu/" in key or "/us/" in key:
        return True
    if key.startswith(("azure/eu/", "azure/us/", "azure/global", "azure_ai/global/")):
        return True
    if prov == "bedrock" and (key.startswith("bedrock/") or "-x-" in key or
                              key.split(".")[0] in ("us", "eu", "apac", "jp", "au", "global")):
        return True  # regional, commitment and cross-region rows: the lookup strips region prefixes
    if key.startswith(("fireworks-ai-", "together-ai-")):
        return True  # size buckets, not models
    if v.get("deprecation_date", "9999") < "2025-06-01":
        return True
    if "input_cost_per_pixel" in v or "output_cost_per_pixel" in v:
        return True
    return not has_prices(v) or not consistent(v)


def consistent(v):
    """Drops snapshot rows that contradict themselves (a long-context tier cheaper than the base
    price, token prices above $1000 per 1M): better no price than a wrong one."""
    for k in ("input_cost_per_token", "output_cost_per_token"):
        if (v.get(k) or 0) > 1e-3:
            return False
        for t in ("128k", "200k"):
            above = v.get(f"{k}_above_{t}_tokens")
            if above is not None and v.get(k) is not None and above < v[k]:
                return False
    return True


def has_prices(v):
    """Rows without the prices their mode needs are gaps, not data (tiered-only, per-query)."""
    mode = v["mode"]
    tok_in = v.get("input_cost_per_token") is not None
    tok_out = v.get("output_cost_per_token") is not None
    if mode in ("chat", "completion"):
        return tok_in and tok_out
    if mode in ("embedding", "rerank"):
        return tok_in
    if mode == "image_generation":
        return v.get("output_cost_per_image") is not None or tok_out
    if mode == "audio_transcription":
        return v.get("input_cost_per_second") is not None or tok_in
    if mode == "audio_speech":
        return v.get("input_cost_per_character") is not None or tok_in
    return True

def per_million(x):
    if x is None:
        return ""
    v = x * 1e6
    r = round(v, 6)
    if abs(v - r) > 1e-7 * max(1.0, abs(v)):
        raise ValueError(f"price {x} not exact at 1e-12")
    return fmt(r)

def exact(x, digits=12):
    if x is None:
        return ""
    r = round(x, digits)
    return fmt(r, digits)

def fmt(r, digits=6):
    s = f"{r:.{digits}f}".rstrip("0").rstrip(".")
    return s if s else "0"

def limit(x):
    return "" if x is None or isinstance(x, str) else str(int(x))

COLS = ["key", "mode", "max_in", "max_out", "in", "out", "cache_read", "cache_write", "reasoning",
        "audio_in", "audio_out", "image", "second", "char", "tier", "tier_in", "tier_out",
        "tier_cache_read", "tier_cache_write"]

def row(key, v):
    tier = ""
    tin = tout = tcr = tcw = None
    for t in (128_000, 200_000):
        k = f"_above_{t // 1000}k_tokens"
        if f"input_cost_per_token{k}" in v:
            tier = str(t)
            tin = v.get(f"input_cost_per_token{k}")
            tout = v.get(f"output_cost_per_token{k}")
            tcr = v.get(f"cache_read_input_token_cost{k}")
            tcw = v.get(f"cache_creation_input_token_cost{k}")
    mode = v["mode"]
    char = v.get("input_cost_per_character")
    cells = [key, mode, limit(v.get("max_input_tokens") or v.get("max_tokens")),
             limit(v.get("max_output_tokens")) if mode in ("chat", "completion") else "",
             per_million(v.get("input_cost_per_token")), per_million(v.get("output_cost_per_token")),
             per_million(v.get("cache_read_input_token_cost")),
             per_million(v.get("cache_creation_input_token_cost")),
             per_million(v.get("output_cost_per_reasoning_token")),
             per_million(v.get("input_cost_per_audio_token")),
             per_million(v.get("output_cost_per_audio_token")),
             exact(v.get("output_cost_per_image")),
             exact(v.get("input_cost_per_second") or (v.get("output_cost_per_second") if mode == "audio_speech" else None)),
             per_million(char), tier, per_million(tin), per_million(tout), per_million(tcr),
             per_million(tcw)]
    while cells and cells[-1] == "":
        cells.pop()
    return "\t".join(cells)

def main():
    src = json.load(open(sys.argv[1]))
    out = {}
    for key, v in src.items():
        if not isinstance(v, dict) or key == "sample_spec":
            continue
        prov = PROVIDER_MAP.get(v.get("litellm_provider"))
        if prov is None or v.get("mode") not in MODES or skip(key, v, prov):
            continue
        model = key
        for p in KEY_PREFIXES:
            if model.startswith(p):
                model = model[len(p):]
                break
        if prov == "ai21":
            if not model.startswith("jamba"):
                continue  # Jurassic-2 completions are retired
            prov = "ai21_chat"  # LiteLLM's chat provider for Jamba, our registry's id
        ours = f"{prov}/{model}"
        if ours in out:
            continue
        try:
            out[ours] = row(ours, v)
        except ValueError as e:
            print(f"skip {key}: {e}", file=sys.stderr)
    for k, r in EXTRA.items():
        out[k] = f"{k}\t{r}"
    print("# edgellm price table. One model per line, tab-separated; trailing empty cells omitted.")
    print("# Token prices: USD per 1M tokens. image: USD per image. second: USD per second of audio.")
    print("# char: USD per 1M characters. tier: prompt size above which the tier_* prices apply to the")
    print("# whole call. Facts from the providers' price pages, via LiteLLM's public price map")
    print("# (src/cost/gen_prices.py builds this file from it; hand-added rows are marked there).")
    print("\t".join(COLS))
    # Sorted bytewise (Rust's str order): table.rs binary-searches these lines instead of parsing
    # the table, and its builtin_errors() test rejects a file that is not in this order.
    for k in sorted(out, key=lambda k: k.encode()):
        print(out[k])

# Hand-added rows: models newer than the snapshot, prices that changed since, and per-image
# prices the snapshot states per pixel. Each with its source.
EXTRA = {
    # https://platform.claude.com/docs/en/about-claude/pricing: Haiku 4.5 $1 / $5, 5m cache write
    # $1.25, cache hit $0.10; Opus 4.5 $5 / $25, write $6.25, hit $0.50. 200K context.
    "anthropic/claude-haiku-4-5": "chat\t200000\t64000\t1\t5\t0.1\t1.25",
    "anthropic/claude-haiku-4-5-20251001": "chat\t200000\t64000\t1\t5\t0.1\t1.25",
    "anthropic/claude-opus-4-5": "chat\t200000\t64000\t5\t25\t0.5\t6.25",
    "anthropic/claude-opus-4-5-20251101": "chat\t200000\t64000\t5\t25\t0.5\t6.25",
    # https://api-docs.deepseek.com/quick_start/pricing (from 2025-09-05, both models):
    # cache hit $0.07, cache miss $0.56, output $1.68; 128K context; max output 8K / 64K.
    "deepseek/deepseek-chat": "chat\t131072\t8192\t0.56\t1.68\t0.07",
    "deepseek/deepseek-reasoner": "chat\t131072\t65536\t0.56\t1.68\t0.07",
    # OpenAI image pricing, per image by quality and size (DALL-E 2 has one quality).
    "openai/standard/1024-x-1024/dall-e-3": "image_generation\t\t\t\t\t\t\t\t\t\t0.04",
    "openai/standard/1024-x-1792/dall-e-3": "image_generation\t\t\t\t\t\t\t\t\t\t0.08",
    "openai/standard/1792-x-1024/dall-e-3": "image_generation\t\t\t\t\t\t\t\t\t\t0.08",
    "openai/hd/1024-x-1024/dall-e-3": "image_generation\t\t\t\t\t\t\t\t\t\t0.08",
    "openai/hd/1024-x-1792/dall-e-3": "image_generation\t\t\t\t\t\t\t\t\t\t0.12",
    "openai/hd/1792-x-1024/dall-e-3": "image_generation\t\t\t\t\t\t\t\t\t\t0.12",
    "openai/1024-x-1024/dall-e-2": "image_generation\t\t\t\t\t\t\t\t\t\t0.02",
    "openai/512-x-512/dall-e-2": "image_generation\t\t\t\t\t\t\t\t\t\t0.018",
    "openai/256-x-256/dall-e-2": "image_generation\t\t\t\t\t\t\t\t\t\t0.016",
    # gpt-image-1: text in $5, cached $1.25, image out $40 per 1M tokens; per-image figures by
    # quality and size from the same page (low/medium/high).
    "openai/gpt-image-1": "image_generation\t\t\t5\t40\t1.25",
    "openai/low/1024-x-1024/gpt-image-1": "image_generation\t\t\t\t\t\t\t\t\t\t0.011",
    "openai/low/1024-x-1536/gpt-image-1": "image_generation\t\t\t\t\t\t\t\t\t\t0.016",
    "openai/low/1536-x-1024/gpt-image-1": "image_generation\t\t\t\t\t\t\t\t\t\t0.016",
    "openai/medium/1024-x-1024/gpt-image-1": "image_generation\t\t\t\t\t\t\t\t\t\t0.042",
    "openai/medium/1024-x-1536/gpt-image-1": "image_generation\t\t\t\t\t\t\t\t\t\t0.063",
    "openai/medium/1536-x-1024/gpt-image-1": "image_generation\t\t\t\t\t\t\t\t\t\t0.063",
    "openai/high/1024-x-1024/gpt-image-1": "image_generation\t\t\t\t\t\t\t\t\t\t0.167",
    "openai/high/1024-x-1536/gpt-image-1": "image_generation\t\t\t\t\t\t\t\t\t\t0.25",
    "openai/high/1536-x-1024/gpt-image-1": "image_generation\t\t\t\t\t\t\t\t\t\t0.25",
    # https://docs.baseten.co/development/model-apis/overview (Model APIs pricing table).
    "baseten/deepseek-ai/DeepSeek-V3-0324": "chat\t164000\t131000\t0.77\t0.77",
    "baseten/deepseek-ai/DeepSeek-V3.1": "chat\t164000\t131000\t0.5\t1.5",
    "baseten/openai/gpt-oss-120b": "chat\t128000\t128000\t0.1\t0.5",
    # https://developers.cloudflare.com/workers-ai/platform/pricing/ (per-model token prices).
    "cloudflare/@cf/meta/llama-3.1-8b-instruct": "chat\t\t\t0.282\t0.827",
    "cloudflare/@cf/meta/llama-3.2-1b-instruct": "chat\t\t\t0.027\t0.201",
    # Voyage AI pricing: voyage-3.5 $0.06, voyage-3.5-lite $0.02, rerank-2.5 $0.05,
    # rerank-2.5-lite $0.02 per 1M tokens.
    "voyage/voyage-3.5": "embedding\t32000\t\t0.06",
    "voyage/voyage-3.5-lite": "embedding\t32000\t\t0.02",
    "voyage/rerank-2.5": "rerank\t32000\t\t0.05",
    "voyage/rerank-2.5-lite": "rerank\t32000\t\t0.02",
    # AI21 Jamba pricing: Mini $0.20 / $0.40, Large $2 / $8 per 1M tokens (256K context).
    "ai21_chat/jamba-mini": "chat\t256000\t4096\t0.2\t0.4",
    "ai21_chat/jamba-large": "chat\t256000\t4096\t2\t8",
    # https://ai.google.dev/gemini-api/docs/pricing: gemini-embedding-001 $0.15 per 1M tokens.
    "gemini/gemini-embedding-001": "embedding\t2048\t\t0.15",
    # AWS Bedrock pricing, per image: Titan Image Generator v2 standard 512² $0.008, 1024²
    # $0.01, premium $0.01 / $0.012; SDXL 1.0 standard (≤ 50 steps) $0.04, premium $0.08.
    "bedrock/standard/512-x-512/amazon.titan-image-generator-v2:0": "image_generation\t\t\t\t\t\t\t\t\t\t0.008",
    "bedrock/standard/1024-x-1024/amazon.titan-image-generator-v2:0": "image_generation\t\t\t\t\t\t\t\t\t\t0.01",
    "bedrock/premium/512-x-512/amazon.titan-image-generator-v2:0": "image_generation\t\t\t\t\t\t\t\t\t\t0.01",
    "bedrock/premium/1024-x-1024/amazon.titan-image-generator-v2:0": "image_generation\t\t\t\t\t\t\t\t\t\t0.012",
    "bedrock/standard/1024-x-1024/stability.stable-diffusion-xl-v1": "image_generation\t\t\t\t\t\t\t\t\t\t0.04",
    "bedrock/premium/1024-x-1024/stability.stable-diffusion-xl-v1": "image_generation\t\t\t\t\t\t\t\t\t\t0.08",
    # xAI pricing: grok-2-image $0.07 per image.
    "xai/grok-2-image": "image_generation\t\t\t\t\t\t\t\t\t\t0.07",
    "xai/grok-2-image-1212": "image_generation\t\t\t\t\t\t\t\t\t\t0.07",
    # Together AI pricing: embeddings up to 150M parameters $0.008, 151M–350M $0.016 per 1M
    # tokens; Salesforce Llama-Rank-V1 $0.10 per 1M tokens.
    "together_ai/togethercomputer/m2-bert-80M-8k-retrieval": "embedding\t8192\t\t0.008",
    "together_ai/togethercomputer/m2-bert-80M-32k-retrieval": "embedding\t32768\t\t0.008",
    "together_ai/BAAI/bge-base-en-v1.5": "embedding\t512\t\t0.008",
    "together_ai/BAAI/bge-large-en-v1.5": "embedding\t512\t\t0.016",
    "together_ai/Salesforce/Llama-Rank-V1": "rerank\t8192\t\t0.1",
}

main()
