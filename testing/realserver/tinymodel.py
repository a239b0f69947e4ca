"""Write a tiny random-weight llama-architecture GGUF that llama.cpp can serve.

No model may be downloaded here, yet the harness must be tested against a real
engine. This model is a few hundred KB (2 layers, width 64), built from a fixed
seed so every run writes the same bytes. Its output is gibberish by design.

Two properties the tests rely on:

* **EOS is never sampled.** Embedding dimension 0 (the "anchor") holds the same
  large value for every token and no layer writes to it (row 0 of
  ``attn_output`` and ``ffn_down`` is zero), so after the final RMS norm it is
  always about sqrt(width/2). The EOS row of ``output.weight`` is negative there
  and 0 elsewhere: its logit sits near -50 while real tokens stay within about
  +-12. Every request therefore returns
  exactly ``max_tokens`` tokens, with or without ``ignore_eos``.
  A ``logit_bias`` of +100 on the EOS id (see :data:`EOS_ID`) forces EOS, which
  is how the tests see how a server counts an EOS token.
* **Only whole-text tokens are sampled.** BOS, UNK and the 256 byte tokens get
  the same suppression as EOS, so every streamed token decodes to valid UTF-8
  on its own and "one chunk per token" holds.

llama.cpp's SentencePiece ("llama") tokenizer needs the 256 byte tokens
``<0x00>``..``<0xFF>`` for byte fallback, bos/eos ids, and a chat template in
``tokenizer.chat_template`` (ChatML here, which llama.cpp recognises with or
without ``--jinja``).

Usage: ``python -m realserver.tinymodel OUT.gguf [--seed N]``
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

UNK_ID, BOS_ID, EOS_ID = 0, 1, 2

@dataclass(frozen=True)
class Shape:
    n_embd: int = 64
    n_layer: int = 2
    n_head: int = 2  # head size 32, like the vLLM twin (vLLM's CPU kernels need >= 32)
    n_ff: int = 128


TINY = Shape()
# Slow enough (about 1-3 ms a token on one core) that timing checks measure the server.
TIMING = Shape(n_embd=256, n_layer=4, n_head=8, n_ff=768)
CONTEXT_LENGTH = 32768
DEFAULT_SEED = 20240917
MODEL_NAME = "llmbench-tiny"
# How far below zero the logit of EOS (and of every other unsampleable token) sits.
# A logit_bias of +100 on EOS_ID lifts it well above every real token.
EOS_LOGIT_GAP = 50.0

CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
)

# Words (and, through their prefixes, the merge chains SentencePiece needs to reach
# them) so prompts tokenize to fewer pieces than one per character.
_WORDS = (
    "the of and to in is it that for on with as this be are not def return if else "
    "import from class self print code bug line error value true false none int str "
    "list dict file data test function answer model server token time request"
).split()

_SPIECE_SPACE = "\u2581"  # SentencePiece's visible space


def vocabulary() -> tuple[list[str], list[int], list[float]]:
    """(pieces, token types, scores) in id order. Ids 0/1/2 are unk/bos/eos."""
    from gguf import TokenType

    pieces = ["<unk>", "<s>", "</s>"]
    types = [TokenType.UNKNOWN, TokenType.CONTROL, TokenType.CONTROL]
    pieces += [f"<0x{b:02X}>" for b in range(256)]
    types += [TokenType.BYTE] * 256
    normal: list[str] = [_SPIECE_SPACE]
    normal += [chr(c) for c in range(0x21, 0x7F)]
    normal += [_SPIECE_SPACE + chr(c) for c in range(ord("a"), ord("z") + 1)]
    for word in _WORDS:
        spaced = _SPIECE_SPACE + word
        for end in range(2, len(spaced) + 1):
            normal.append(spaced[:end])
    seen: set[str] = set(pieces)
    for piece in normal:
        if piece not in seen:
            seen.add(piece)
            pieces.append(piece)
            types.append(TokenType.NORMAL)
    # Longer pieces score higher so SentencePiece merges prefer them.
    scores = [0.0] * 259 + [float(len(p)) - 10.0 for p in pieces[259:]]
    return pieces, [int(t) for t in types], scores


def weights(n_vocab: int, sampleable: list[bool], seed: int, shape: Shape = TINY) -> dict[str, "object"]:
    """Tensor name -> float32 array, numpy shape (rows, cols) as GGUF expects.

    Weights are scaled by 1/sqrt(fan-in) and the residual writes are kept small,
    so the anchor dimension dominates the final norm at any width.
    """
    import numpy as np

    rng = np.random.default_rng(seed)
    width, ffn = shape.n_embd, shape.n_ff

    def rand(rows: int, cols: int, gain: float = 1.0) -> "np.ndarray":
        return (rng.standard_normal((rows, cols)) * gain / np.sqrt(cols)).astype(np.float32)

    anchor = float(np.sqrt(width))  # x[0] after the final norm is then ~sqrt(width / 2)
    embd = rng.standard_normal((n_vocab, width)).astype(np.float32)
    embd[:, 0] = anchor
    out = rand(n_vocab, width, gain=4.0)  # real-token logits within about +-12
    out[:, 0] = 0.0
    suppress = -EOS_LOGIT_GAP / np.sqrt(width / 2.0)
    for token_id, ok in enumerate(sampleable):
        if not ok:
            out[token_id, :] = 0.0
            out[token_id, 0] = suppress
    tensors: dict[str, np.ndarray] = {
        "token_embd.weight": embd,
        "output_norm.weight": np.ones(width, dtype=np.float32),
        "output.weight": out,
    }
    for layer in range(shape.n_layer):
        attn_out = rand(width, width, gain=0.3)
        attn_out[0, :] = 0.0  # no layer writes to the anchor dimension
        ffn_down = rand(width, ffn, gain=0.3)
        ffn_down[0, :] = 0.0
        prefix = f"blk.{layer}."
        tensors.update({
            prefix + "attn_norm.weight": np.ones(width, dtype=np.float32),
            prefix + "attn_q.weight": rand(width, width),
            prefix + "attn_k.weight": rand(width, width),
            prefix + "attn_v.weight": rand(width, width),
            prefix + "attn_output.weight": attn_out,
            prefix + "ffn_norm.weight": np.ones(width, dtype=np.float32),
            prefix + "ffn_gate.weight": rand(ffn, width),
            prefix + "ffn_up.weight": rand(ffn, width),
            prefix + "ffn_down.weight": ffn_down,
        })
    return tensors


def write_tiny_gguf(path: str | Path, seed: int = DEFAULT_SEED, shape: Shape = TINY) -> Path:
    """Write the model to ``path`` (atomically) and return the path."""
    import gguf

    path = Path(path)
    pieces, types, scores = vocabulary()
    sampleable = [t == int(gguf.TokenType.NORMAL) for t in types]
    tmp = path.with_name(path.name + ".tmp")
    writer = gguf.GGUFWriter(str(tmp), "llama")
    writer.add_name(MODEL_NAME)
    writer.add_context_length(CONTEXT_LENGTH)
    writer.add_embedding_length(shape.n_embd)
    writer.add_block_count(shape.n_layer)
    writer.add_feed_forward_length(shape.n_ff)
    writer.add_head_count(shape.n_head)
    writer.add_head_count_kv(shape.n_head)
    writer.add_rope_dimension_count(shape.n_embd // shape.n_head)
    writer.add_rope_freq_base(10000.0)
    writer.add_layer_norm_rms_eps(1e-5)
    writer.add_vocab_size(len(pieces))
    writer.add_file_type(gguf.LlamaFileType.ALL_F32)
    writer.add_tokenizer_model("llama")
    writer.add_token_list(pieces)
    writer.add_token_scores(scores)
    writer.add_token_types(types)
    writer.add_unk_token_id(UNK_ID)
    writer.add_bos_token_id(BOS_ID)
    writer.add_eos_token_id(EOS_ID)
    writer.add_add_bos_token(True)
    writer.add_add_eos_token(False)
    writer.add_chat_template(CHAT_TEMPLATE)
    for name, array in weights(len(pieces), sampleable, seed, shape).items():
        writer.add_tensor(name, array)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    tmp.replace(path)
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m realserver.tinymodel",
        description="Write the tiny random-weight llama GGUF used by the real-server tests.",
    )
    parser.add_argument("out", help="output .gguf path")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="weights seed (default: %(default)s)")
    parser.add_argument("--width", type=int, default=TINY.n_embd, help="embedding width (default: %(default)s)")
    parser.add_argument("--layers", type=int, default=TINY.n_layer, help="layers (default: %(default)s)")
    parser.add_argument("--ffn", type=int, default=TINY.n_ff, help="feed-forward width (default: %(default)s)")
    args = parser.parse_args(argv)
    shape = Shape(n_embd=args.width, n_layer=args.layers, n_head=max(1, args.width // 32), n_ff=args.ffn)
    try:
        path = write_tiny_gguf(args.out, seed=args.seed, shape=shape)
    except ImportError as exc:
        print(f"llmbench: the tiny model needs the 'gguf' and 'numpy' packages ({exc})", file=sys.stderr)
        return 1
    print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
