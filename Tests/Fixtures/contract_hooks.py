"""Schemathesis hooks for the contract test: NDJSON replies are read line by line.

Every line must be a JSON object; the last one (the `done` figures, or an `error`) is what is checked
against the operation's documented line schema."""
import json

import schemathesis


@schemathesis.deserializer("application/x-ndjson")
def ndjson(ctx, response):
    lines = [line for line in response.content.decode("utf-8").split("\n") if line.strip()]
    if not lines:
        raise ValueError("an NDJSON reply with no lines")
    parsed = [json.loads(line) for line in lines]
    for line in parsed:
        if not isinstance(line, dict):
            raise ValueError(f"an NDJSON line that is not an object: {line!r}")
    return parsed[-1]


def _survive_cpython_ast_bug():
    """CPython 3.11 (before 3.11.9, gh-106905) can raise `SystemError: AST constructor recursion depth
    mismatch` from `ast.parse` deep in a recursion. Hypothesis calls it only to describe a lambda in a
    strategy's repr, so a failed description becomes the `<unknown>` one Hypothesis already has, instead of
    ending the whole run as an error that no request to the server caused."""
    from hypothesis.internal import lambda_sources

    describe = lambda_sources._lambda_description

    def described(f, *args, **kwargs):
        try:
            return describe(f, *args, **kwargs)
        except SystemError as error:
            if "recursion depth mismatch" not in str(error):
                raise
            return "lambda: <unknown>"

    lambda_sources._lambda_description = described


_survive_cpython_ast_bug()
