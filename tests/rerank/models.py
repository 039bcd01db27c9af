"""Cross-encoders the tests make themselves: a tiny BERT (one layer, seeded weights) with
a one-label classification head and the bundled model's tokenizer, saved in the
sentence-transformers ``CrossEncoder`` format. Nothing is downloaded. Its scores mean
nothing, but they are the model's own: the tests hold that the order follows them."""

from __future__ import annotations

from pathlib import Path


def make_cross_encoder(folder: Path, *, seed: int = 0, negate: bool = False,
                       labels: int = 1, hidden: int = 16) -> Path:
    """A tiny cross-encoder saved in ``folder``; ``negate`` flips the sign of its
    classifier, so it scores every pair as the other model's opposite."""
    import torch
    from sentence_transformers import CrossEncoder
    from transformers import AutoTokenizer, BertConfig, BertForSequenceClassification

    from citeseek.embed.base import default_model_path

    tokenizer = AutoTokenizer.from_pretrained(str(default_model_path()))
    torch.manual_seed(seed)
    config = BertConfig(vocab_size=tokenizer.vocab_size, hidden_size=hidden,
                        num_hidden_layers=1, num_attention_heads=2, intermediate_size=32,
                        max_position_embeddings=256, num_labels=labels,
                        initializer_range=0.5)  # wide weights: scores far apart
    model = BertForSequenceClassification(config).eval()
    if negate:
        with torch.no_grad():
            model.classifier.weight.neg_()
            model.classifier.bias.neg_()
    raw = folder.with_name(folder.name + "-raw")
    model.save_pretrained(str(raw))
    tokenizer.save_pretrained(str(raw))
    CrossEncoder(str(raw), local_files_only=True, num_labels=labels).save(str(folder))
    return folder
