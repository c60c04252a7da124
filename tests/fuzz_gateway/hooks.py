"""Schemathesis hooks for scripts/schemathesis.sh.

Generated bodies name random models, which the gateway refuses at its model check (400/404)
before anything else runs. Half of the model-call bodies are pointed at the demo config's model
instead, so that the fuzzing also reaches routing, parameter handling, the mock provider and
streaming. The choice is a function of the body, so runs stay reproducible under a seed.
"""

import json
import sys
import zlib

import schemathesis

# The request schemas nest deeply (messages → content parts → …). Near Python's default limit
# of 1000, Hypothesis's error reporting itself failed once ("AST constructor recursion depth
# mismatch", CPython 3.11, seed 2): headroom for the generator, not for the gateway.
sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))

DEMO_MODEL = "edgellm-demo"
MODEL_CALLS = (
    "/chat/completions",
    "/completions",
    "/embeddings",
    "/images/generations",
    "/moderations",
    "/rerank",
)


@schemathesis.hook
def map_body(context, body):
    operation = context.operation
    if operation is None or not operation.path.endswith(MODEL_CALLS) or not isinstance(body, dict):
        return body
    digest = zlib.crc32(json.dumps(body, sort_keys=True, default=str).encode())
    if digest % 2 == 0:
        return {**body, "model": DEMO_MODEL}
    return body
