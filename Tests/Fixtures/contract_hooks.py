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
