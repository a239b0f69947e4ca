"""Write the tiny random-weight llama as a Hugging Face model folder, for vLLM.

The twin of :mod:`realserver.tinymodel` (which writes it as a GGUF for
llama.cpp): the same vocabulary, the same weights from the same seed, laid out
as a ``LlamaForCausalLM`` checkpoint. Nothing is downloaded and nothing heavier
than numpy is needed: ``model.safetensors`` and ``tokenizer.json`` are plain
formats written here by hand, so the harness's own venv can make the folder and
only the separate vLLM venv needs torch and ``tokenizers``.

The folder holds ``config.json``, ``generation_config.json``,
``model.safetensors``, ``tokenizer.json`` (a Unigram model with byte fallback,
the SentencePiece pieces and scores of the GGUF) and ``tokenizer_config.json``
(with the ChatML chat template).

It keeps the GGUF's two properties (see ``tinymodel``): EOS and the other
control/byte tokens sit about 50 logits below every real token, so every answer
is exactly ``max_tokens`` long unless a ``logit_bias`` lifts EOS, and every
sampled token decodes to whole text. Two tokens the GGUF lacks, ``<think>`` and
``</think>``, are appended after its vocabulary (never sampled either), so vLLM
can be started with ``--reasoning-parser deepseek_r1``: it then streams the
whole answer as reasoning, which is how the tests see vLLM's reasoning field.
Head size is 32 because vLLM's CPU
attention kernels refuse smaller heads. The GGUF's q/k rows are in llama.cpp's
rotary order, not HF's; with random weights that only changes which gibberish
comes out, so the two engines' texts differ while their token counts agree.

Usage: ``python -m realserver.tinyhf OUT_DIR [--seed N]``
"""

from __future__ import annotations

import argparse
import json
import struct
import sys
from pathlib import Path

from realserver.tinymodel import (
    BOS_ID,
    CHAT_TEMPLATE,
    CONTEXT_LENGTH,
    DEFAULT_SEED,
    EOS_ID,
    TINY,
    UNK_ID,
    Shape,
)

SERVED_NAME = "tiny-hf"
# Bump when what is written changes, so a cached folder from an older version is not reused.
REVISION = 2
# Appended after the GGUF's vocabulary: the markers vLLM's think-tag reasoning parsers look up.
THINK_TOKENS = ("<think>", "</think>")

_SPIECE_SPACE = "\u2581"
# GGUF token types (gguf.TokenType) that may be sampled: NORMAL only.
_NORMAL_TYPE = 1

# GGUF tensor names -> HF llama names ("{i}" is the layer index).
_GLOBAL_NAMES = {
    "token_embd.weight": "model.embed_tokens.weight",
    "output_norm.weight": "model.norm.weight",
    "output.weight": "lm_head.weight",
}
_LAYER_NAMES = {
    "attn_norm.weight": "input_layernorm.weight",
    "attn_q.weight": "self_attn.q_proj.weight",
    "attn_k.weight": "self_attn.k_proj.weight",
    "attn_v.weight": "self_attn.v_proj.weight",
    "attn_output.weight": "self_attn.o_proj.weight",
    "ffn_norm.weight": "post_attention_layernorm.weight",
    "ffn_gate.weight": "mlp.gate_proj.weight",
    "ffn_up.weight": "mlp.up_proj.weight",
    "ffn_down.weight": "mlp.down_proj.weight",
}


def hf_name(gguf_name: str) -> str:
    if gguf_name in _GLOBAL_NAMES:
        return _GLOBAL_NAMES[gguf_name]
    _, layer, rest = gguf_name.split(".", 2)   # "blk.3.attn_q.weight"
    return f"model.layers.{layer}.{_LAYER_NAMES[rest]}"


def write_safetensors(path: Path, tensors: dict[str, "object"]) -> None:
    """The safetensors layout: u64 header length, JSON header, then the raw buffers."""
    import numpy as np

    header: dict[str, dict] = {"__metadata__": {"format": "pt"}}
    blobs: list[bytes] = []
    offset = 0
    for name in sorted(tensors):
        array = np.ascontiguousarray(tensors[name], dtype="<f4")
        blob = array.tobytes()
        header[name] = {"dtype": "F32", "shape": list(array.shape), "data_offsets": [offset, offset + len(blob)]}
        blobs.append(blob)
        offset += len(blob)
    head = json.dumps(header, separators=(",", ":")).encode()
    head += b" " * (-len(head) % 8)   # align the data start to 8 bytes
    with open(path, "wb") as out:
        out.write(struct.pack("<Q", len(head)))
        out.write(head)
        for blob in blobs:
            out.write(blob)


def tokenizer_json(pieces: list[str], scores: list[float]) -> dict:
    """A ``tokenizers`` Unigram model equivalent to the GGUF's SentencePiece vocabulary.

    The think markers are added tokens after it, not special (special ones are
    dropped from decoded text, and a reasoning parser must see them).
    """
    added = [(UNK_ID, "<unk>", True), (BOS_ID, "<s>", True), (EOS_ID, "</s>", True)]
    added += [(len(pieces) + i, text, False) for i, text in enumerate(THINK_TOKENS)]
    return {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": [
            {"id": i, "content": text, "single_word": False, "lstrip": False, "rstrip": False,
             "normalized": False, "special": special}
            for i, text, special in added
        ],
        # SentencePiece style: a leading "▁" and every space as "▁".
        "normalizer": {"type": "Sequence", "normalizers": [
            {"type": "Prepend", "prepend": _SPIECE_SPACE},
            {"type": "Replace", "pattern": {"String": " "}, "content": _SPIECE_SPACE},
        ]},
        "pre_tokenizer": None,
        "post_processor": {
            "type": "TemplateProcessing",
            "single": [{"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}],
            "pair": [{"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                     {"SpecialToken": {"id": "<s>", "type_id": 1}}, {"Sequence": {"id": "B", "type_id": 1}}],
            "special_tokens": {"<s>": {"id": "<s>", "ids": [BOS_ID], "tokens": ["<s>"]}},
        },
        "decoder": {"type": "Sequence", "decoders": [
            {"type": "Replace", "pattern": {"String": _SPIECE_SPACE}, "content": " "},
            {"type": "ByteFallback"},
            {"type": "Fuse"},
            {"type": "Strip", "content": " ", "start": 1, "stop": 0},
        ]},
        "model": {
            "type": "Unigram",
            "unk_id": UNK_ID,
            "vocab": [[piece, score] for piece, score in zip(pieces, scores, strict=True)],
            "byte_fallback": True,
        },
    }


def config_json(n_vocab: int, shape: Shape) -> dict:
    head_dim = shape.n_embd // shape.n_head
    return {
        "architectures": ["LlamaForCausalLM"],
        "model_type": "llama",
        "hidden_size": shape.n_embd,
        "intermediate_size": shape.n_ff,
        "num_hidden_layers": shape.n_layer,
        "num_attention_heads": shape.n_head,
        "num_key_value_heads": shape.n_head,
        "head_dim": head_dim,
        "hidden_act": "silu",
        "max_position_embeddings": CONTEXT_LENGTH,
        "rms_norm_eps": 1e-5,
        "rope_theta": 10000.0,
        "attention_bias": False,
        "mlp_bias": False,
        "tie_word_embeddings": False,
        "vocab_size": n_vocab,
        "bos_token_id": BOS_ID,
        "eos_token_id": EOS_ID,
        "torch_dtype": "float32",
    }


def _append_unsampled_rows(tensors: dict, count: int) -> None:
    """Give ``count`` tokens after the vocabulary an embedding and EOS's suppressed logit row.

    Appended rather than passed to ``tinymodel.weights`` so the random draws, and
    with them every other weight, stay those of the GGUF.
    """
    import numpy as np

    eos_row = tensors["lm_head.weight"][EOS_ID]
    anchor_row = np.zeros_like(tensors["model.embed_tokens.weight"][0])
    anchor_row[0] = tensors["model.embed_tokens.weight"][0, 0]   # the anchor value every token carries
    tensors["lm_head.weight"] = np.vstack([tensors["lm_head.weight"], np.tile(eos_row, (count, 1))])
    tensors["model.embed_tokens.weight"] = np.vstack([tensors["model.embed_tokens.weight"],
                                                     np.tile(anchor_row, (count, 1))])


def write_tiny_hf(out_dir: str | Path, seed: int = DEFAULT_SEED, shape: Shape = TINY) -> Path:
    """Write the model folder (atomically: built beside it, then renamed) and return it."""
    from realserver import tinymodel

    out_dir = Path(out_dir)
    if shape.n_embd // shape.n_head < 32:
        raise ValueError("vLLM's CPU attention needs a head size of at least 32")
    pieces, types, scores = tinymodel.vocabulary()
    sampleable = [t == _NORMAL_TYPE for t in types]
    gguf_tensors = tinymodel.weights(len(pieces), sampleable, seed, shape)
    tensors = {hf_name(k): v for k, v in gguf_tensors.items()}
    _append_unsampled_rows(tensors, len(THINK_TOKENS))
    n_vocab = len(pieces) + len(THINK_TOKENS)

    tmp = out_dir.with_name(out_dir.name + ".tmp")
    if tmp.exists():
        for child in tmp.iterdir():
            child.unlink()
    tmp.mkdir(parents=True, exist_ok=True)
    write_safetensors(tmp / "model.safetensors", tensors)

    def dump(name: str, obj: dict) -> None:
        (tmp / name).write_text(json.dumps(obj, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")

    dump("config.json", config_json(n_vocab, shape))
    dump("generation_config.json", {"bos_token_id": BOS_ID, "eos_token_id": EOS_ID})
    dump("tokenizer.json", tokenizer_json(pieces, scores))
    dump("tokenizer_config.json", {
        "tokenizer_class": "PreTrainedTokenizerFast",
        "bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>",
        "add_bos_token": True, "add_eos_token": False,
        "clean_up_tokenization_spaces": False,
        "model_max_length": CONTEXT_LENGTH,
        "chat_template": CHAT_TEMPLATE,
    })
    dump("special_tokens_map.json", {"bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>"})
    if out_dir.exists():
        for child in out_dir.iterdir():
            child.unlink()
        out_dir.rmdir()
    tmp.rename(out_dir)
    return out_dir


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m realserver.tinyhf",
        description="Write the tiny random-weight llama as a Hugging Face folder vLLM can serve.",
    )
    parser.add_argument("out", help="output folder (replaced if it exists)")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="weights seed (default: %(default)s)")
    args = parser.parse_args(argv)
    try:
        path = write_tiny_hf(args.out, seed=args.seed)
    except ImportError as exc:
        print(f"llmbench: the tiny model needs the 'gguf' and 'numpy' packages ({exc})", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"llmbench: cannot write {args.out}: {exc}", file=sys.stderr)
        return 1
    print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
