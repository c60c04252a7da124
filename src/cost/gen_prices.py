#!/usr/bin/env python3
"""Builds src/cost/prices.tsv from a copy of LiteLLM's model_prices_and_context_window.json.

Usage: python3 gen_prices.py path/to/model_prices_and_context_window.json > src/cost/prices.tsv

The JSON is public data (MIT); we keep only the providers edgellm supports, only chat, embedding,
image, audio and moderation models, and only the price and limit fields our cost code reads.
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
}
MODES = {"chat", "completion", "embedding", "image_generation", "audio_transcription",
         "audio_speech", "moderation"}
# Provider prefixes LiteLLM puts in its keys, stripped before we add our own.
KEY_PREFIXES = ["vertex_ai/", "bedrock/", "azure/", "azure_ai/", "gemini/", "mistral/", "codestral/",
                "groq/", "xai/", "deepseek/", "together_ai/", "fireworks_ai/", "openrouter/",
                "perplexity/", "cerebras/", "deepinfra/", "voyage/", "sambanova/", "nvidia_nim/",
                "cloudflare/", "databricks/", "watsonx/", "moonshot/", "dashscope/", "hyperbolic/",
                "openai/", "anthropic/", "cohere/", "ai21/", "jina_ai/"]

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
    return False

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
    for k in sorted(out):
        print(out[k])

# Hand-added rows: models newer than the snapshot, prices that changed since, and per-image
# prices the snapshot states per pixel. Each with its source.
EXTRA = {
    # https://platform.claude.com/docs/en/about-claude/pricing: Haiku 4.5 $1 / $5, 5m cache write
    # $1.25, cache hit $0.10; Opus 4.5 $5 / $25, write $6.25, hit $0.50. 200K context.
    "anthropic/claude-haiku-4-5": "chat	200000	64000	1	5	0.1	1.25",
    "anthropic/claude-haiku-4-5-20251001": "chat	200000	64000	1	5	0.1	1.25",
    "anthropic/claude-opus-4-5": "chat	200000	64000	5	25	0.5	6.25",
    "anthropic/claude-opus-4-5-20251101": "chat	200000	64000	5	25	0.5	6.25",
    # https://api-docs.deepseek.com/quick_start/pricing (from 2025-09-05, both models):
    # cache hit $0.07, cache miss $0.56, output $1.68; 128K context; max output 8K / 64K.
    "deepseek/deepseek-chat": "chat	131072	8192	0.56	1.68	0.07",
    "deepseek/deepseek-reasoner": "chat	131072	65536	0.56	1.68	0.07",
    # OpenAI image pricing, per image by quality and size (DALL-E 2 has one quality).
    "openai/standard/1024-x-1024/dall-e-3": "image_generation										0.04",
    "openai/standard/1024-x-1792/dall-e-3": "image_generation										0.08",
    "openai/standard/1792-x-1024/dall-e-3": "image_generation										0.08",
    "openai/hd/1024-x-1024/dall-e-3": "image_generation										0.08",
    "openai/hd/1024-x-1792/dall-e-3": "image_generation										0.12",
    "openai/hd/1792-x-1024/dall-e-3": "image_generation										0.12",
    "openai/1024-x-1024/dall-e-2": "image_generation										0.02",
    "openai/512-x-512/dall-e-2": "image_generation										0.018",
    "openai/256-x-256/dall-e-2": "image_generation										0.016",
}

main()
