"""Schemathesis hooks for scripts/schemathesis.sh.

Generated bodies name random models, which the gateway refuses at its model check (400/404)
before anything else runs. Half of the model-call bodies are pointed at the demo config's model
instead, so that the fuzzing also reaches routing, parameter handling, the mock provider and
streaming. The choice is a function of the body, so runs stay reproducible under a seed.
"""

import json
import zlib

import schemathesis
from hypothesis.internal import lambda_sources

# CPython 3.11 can raise SystemError ("AST constructor recursion depth mismatch",
# python/cpython#106905; seen here on 3.11.7) from `ast.parse` deep in a stack. Hypothesis parses a lambda's source
# just to print it, eagerly, while validating recursive strategies; with the gateway's nested
# request schemas that aborted a coverage run (seed 2, POST /completions). The description only
# feeds messages, so a failure to build it is turned into a placeholder.
_describe_lambda = lambda_sources.lambda_description


def _lambda_description_or_placeholder(f):
    try:
        return _describe_lambda(f)
    except SystemError:
        return "lambda: <source unavailable>"


lambda_sources.lambda_description = _lambda_description_or_placeholder

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
