#!/usr/bin/env python3
"""An independent all-MiniLM-L6-v2 forward pass in numpy, straight from the safetensors weights: a
BERT WordPiece tokenizer, six encoder layers, mean pooling and L2 normalisation. Tests compare the
engine's GGUF embeddings with it.

Usage: minilm_reference.py MODEL_DIR < {"sentences": [...]}  ->  {"token_ids": [[...]], "embeddings": [[...]]}
"""
import json
import math
import sys
import unicodedata
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from convert_minilm import read_safetensors  # noqa: E402


def is_punctuation(char: str) -> bool:
    code = ord(char)
    if 33 <= code <= 47 or 58 <= code <= 64 or 91 <= code <= 96 or 123 <= code <= 126:
        return True
    return unicodedata.category(char).startswith("P")


def is_cjk(code: int) -> bool:
    return any(low <= code <= high for low, high in [
        (0x4E00, 0x9FFF), (0x3400, 0x4DBF), (0x20000, 0x2A6DF), (0x2A700, 0x2B73F), (0x2B740, 0x2B81F),
        (0x2B820, 0x2CEAF), (0xF900, 0xFAFF), (0x2F800, 0x2FA1F)])


def basic_tokens(text: str) -> list[str]:
    cleaned = []
    for char in text:
        code = ord(char)
        if code == 0 or code == 0xFFFD or (unicodedata.category(char).startswith("C") and char not in "\t\n\r"):
            continue
        if is_cjk(code):
            cleaned.append(f" {char} ")
        else:
            cleaned.append(" " if char.isspace() else char)
    words = []
    for word in "".join(cleaned).lower().split():
        word = "".join(c for c in unicodedata.normalize("NFD", word) if unicodedata.category(c) != "Mn")
        current = ""
        for char in word:
            if is_punctuation(char):
                if current:
                    words.append(current)
                words.append(char)
                current = ""
            else:
                current += char
        if current:
            words.append(current)
    return words


def wordpiece(words: list[str], vocab: dict[str, int]) -> list[int]:
    ids = [vocab["[CLS]"]]
    for word in words:
        if len(word) > 100:
            ids.append(vocab["[UNK]"])
            continue
        pieces, start = [], 0
        while start < len(word):
            end = len(word)
            while end > start:
                piece = word[start:end] if start == 0 else "##" + word[start:end]
                if piece in vocab:
                    break
                end -= 1
            if end == start:
                pieces = [vocab["[UNK]"]]
                break
            pieces.append(vocab[piece])
            start = end
        ids.extend(pieces)
    ids.append(vocab["[SEP]"])
    return ids


def layer_norm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray, eps: float) -> np.ndarray:
    mean = x.mean(-1, keepdims=True)
    variance = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) / np.sqrt(variance + eps) * weight + bias


erf = np.vectorize(math.erf)


def embed(ids: list[int], w: dict[str, np.ndarray], config: dict) -> np.ndarray:
    eps, heads = config["layer_norm_eps"], config["num_attention_heads"]
    x = w["embeddings.word_embeddings.weight"][ids] + w["embeddings.position_embeddings.weight"][: len(ids)]
    x = layer_norm(x + w["embeddings.token_type_embeddings.weight"][0],
                   w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"], eps)
    size = x.shape[1] // heads
    for layer in range(config["num_hidden_layers"]):
        p = f"encoder.layer.{layer}."
        def dense(name: str, value: np.ndarray) -> np.ndarray:
            return value @ w[p + name + ".weight"].T + w[p + name + ".bias"]
        q, k, v = (dense(f"attention.self.{n}", x).reshape(len(ids), heads, size).transpose(1, 0, 2)
                   for n in ("query", "key", "value"))
        scores = q @ k.transpose(0, 2, 1) / math.sqrt(size)
        scores = np.exp(scores - scores.max(-1, keepdims=True))
        context = (scores / scores.sum(-1, keepdims=True)) @ v
        context = context.transpose(1, 0, 2).reshape(len(ids), heads * size)
        x = layer_norm(x + dense("attention.output.dense", context),
                       w[p + "attention.output.LayerNorm.weight"], w[p + "attention.output.LayerNorm.bias"], eps)
        hidden = dense("intermediate.dense", x)
        hidden = 0.5 * hidden * (1 + erf(hidden / math.sqrt(2)))
        x = layer_norm(x + dense("output.dense", hidden),
                       w[p + "output.LayerNorm.weight"], w[p + "output.LayerNorm.bias"], eps)
    pooled = x.mean(0)
    return pooled / np.linalg.norm(pooled)


def main() -> None:
    model_dir = Path(sys.argv[1])
    config = json.loads((model_dir / "config.json").read_text())
    vocab_list = (model_dir / "vocab.txt").read_text(encoding="utf-8").split("\n")
    vocab = {token: index for index, token in enumerate(vocab_list) if token}
    weights = {name: array.astype(np.float64) for name, array in read_safetensors(model_dir / "model.safetensors").items()
               if name != "embeddings.position_ids"}
    sentences = json.load(sys.stdin)["sentences"]
    ids = [wordpiece(basic_tokens(sentence), vocab) for sentence in sentences]
    json.dump({"token_ids": ids, "embeddings": [embed(i, weights, config).tolist() for i in ids]}, sys.stdout)


if __name__ == "__main__":
    main()
