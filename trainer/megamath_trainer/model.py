"""Llama-3 decoder (RMSNorm, RoPE with llama3 scaling, GQA, SwiGLU, optional tied embeddings).

Module names mirror Hugging Face's LlamaForCausalLM (model.layers.N.self_attn.q_proj, ...), so a state dict *is* an
HF state dict: no renaming and, thanks to rotate-half RoPE, no q/k permutation on import or export.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F

from .attention import AttentionMask, attend
from .rope import apply_rope, llama3_inv_freq, rope_cos_sin


class RMSNorm(nn.Module):
    def __init__(self, dim, eps):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(dim))

    def forward(self, x):
        # Normalise in fp32 (bf16 loses the small variance terms), then scale, as HF and Meta do.
        xf = x.float()
        xf = xf * torch.rsqrt(xf.pow(2).mean(-1, keepdim=True) + self.eps)
        return self.weight * xf.to(x.dtype)


class Attention(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.n_heads, self.n_kv_heads, self.head_dim = cfg.n_heads, cfg.n_kv_heads, cfg.head_dim
        self.q_proj = nn.Linear(cfg.dim, cfg.n_heads * cfg.head_dim, bias=False)
        self.k_proj = nn.Linear(cfg.dim, cfg.n_kv_heads * cfg.head_dim, bias=False)
        self.v_proj = nn.Linear(cfg.dim, cfg.n_kv_heads * cfg.head_dim, bias=False)
        self.o_proj = nn.Linear(cfg.n_heads * cfg.head_dim, cfg.dim, bias=False)

    def forward(self, x, cos, sin, mask):
        b, s, _ = x.shape
        q = self.q_proj(x).view(b, s, self.n_heads, self.head_dim).transpose(1, 2)
        k = self.k_proj(x).view(b, s, self.n_kv_heads, self.head_dim).transpose(1, 2)
        v = self.v_proj(x).view(b, s, self.n_kv_heads, self.head_dim).transpose(1, 2)
        q, k = apply_rope(q, cos, sin), apply_rope(k, cos, sin)
        out = attend(q, k, v, mask)
        return self.o_proj(out.transpose(1, 2).reshape(b, s, self.n_heads * self.head_dim))


class MLP(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.gate_proj = nn.Linear(cfg.dim, cfg.ffn_dim, bias=False)
        self.up_proj = nn.Linear(cfg.dim, cfg.ffn_dim, bias=False)
        self.down_proj = nn.Linear(cfg.ffn_dim, cfg.dim, bias=False)

    def forward(self, x):
        return self.down_proj(F.silu(self.gate_proj(x)) * self.up_proj(x))


class DecoderLayer(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.input_layernorm = RMSNorm(cfg.dim, cfg.norm_eps)
        self.self_attn = Attention(cfg)
        self.post_attention_layernorm = RMSNorm(cfg.dim, cfg.norm_eps)
        self.mlp = MLP(cfg)

    def forward(self, x, cos, sin, mask):
        x = x + self.self_attn(self.input_layernorm(x), cos, sin, mask)
        return x + self.mlp(self.post_attention_layernorm(x))


class LlamaModel(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.embed_tokens = nn.Embedding(cfg.vocab_size, cfg.dim)
        self.layers = nn.ModuleList(DecoderLayer(cfg) for _ in range(cfg.n_layers))
        self.norm = RMSNorm(cfg.dim, cfg.norm_eps)


class LlamaForCausalLM(nn.Module):
    def __init__(self, cfg, attention_backend="math", activation_checkpointing=0):
        super().__init__()
        self.cfg = cfg
        self.attention_backend = attention_backend
        # 0: keep every layer's activations; k >= 1: recompute every k-th layer in backward (1 = all layers), as
        # torchtitan's selective per-layer policy. True/False are read as 1/0.
        self.activation_checkpointing = int(activation_checkpointing)
        self.model = LlamaModel(cfg)
        self.lm_head = nn.Linear(cfg.dim, cfg.vocab_size, bias=False)
        if cfg.tie_embeddings:
            self.lm_head.weight = self.model.embed_tokens.weight
        # Not a buffer: it must not enter state dicts (HF files have no inv_freq) nor be cast to bf16 (model.to(dtype)
        # and FSDP's buffer_dtype would). hidden_states moves it to the input's device once, so no forward pays a
        # host-to-device copy (and the stream sync that comes with it).
        self._inv_freq = llama3_inv_freq(cfg.head_dim, cfg.rope_theta, cfg.rope_scaling)

    def init_weights(self, seed, std=0.02):
        """HF's Llama init: N(0, 0.02) for linear and embedding weights, ones for norms; seeded, device-independent."""
        gen = torch.Generator().manual_seed(seed)
        with torch.no_grad():
            for name, p in self.named_parameters():
                if name.endswith("layernorm.weight") or name == "model.norm.weight":
                    p.fill_(1.0)
                else:
                    p.copy_(torch.randn(p.shape, generator=gen, dtype=torch.float32) * std)

    def hidden_states(self, input_ids, positions=None, doc_ids=None):
        """Final-normed hidden states (B, S, dim). positions/doc_ids (B, S): per-document RoPE positions and the
        document of each token for block-causal masking; None means one sequence (plain causal, positions 0..S-1)."""
        b, s = input_ids.shape
        if positions is None:
            positions = torch.arange(s, device=input_ids.device)[None].expand(b, s)
        if self._inv_freq.device != input_ids.device:
            self._inv_freq = self._inv_freq.to(input_ids.device)
        cos, sin = rope_cos_sin(self._inv_freq, positions)
        mask = AttentionMask(self.attention_backend, doc_ids, s, input_ids.device)   # once for all layers
        x = self.model.embed_tokens(input_ids)
        every = self.activation_checkpointing
        for i, layer in enumerate(self.model.layers):
            if every and self.training and i % every == 0:
                x = _checkpoint(layer, x, cos, sin, mask)
            else:
                x = layer(x, cos, sin, mask)
        return self.model.norm(x)

    def forward(self, input_ids, labels=None, positions=None, doc_ids=None, chunk_tokens=2048):
        """Without labels: full fp32 logits (B, S, vocab), for evaluation and tests. With labels: the mean next-token
        cross-entropy, the form training uses (DDP/FSDP hook forward, so the loss must come out of it). The vocab
        projection then runs in chunks of chunk_tokens that are recomputed in backward, so only one chunk's logits
        exist at a time: at 2048 tokens x 128256 that is 1 GiB in fp32, against 4 GiB (plus as much again for
        log-softmax and its gradient) for one whole 8192-token sequence."""
        h = self.hidden_states(input_ids, positions, doc_ids)
        if labels is None:
            return self.lm_head(h).float()
        h = h.reshape(-1, h.shape[-1])
        labels = labels.reshape(-1)
        total = h.new_zeros((), dtype=torch.float32)
        for start in range(0, h.shape[0], chunk_tokens):
            hc, lc = h[start:start + chunk_tokens], labels[start:start + chunk_tokens]
            if self.training and h.shape[0] > chunk_tokens:
                total = total + _checkpoint(_chunk_ce_sum, hc, lc, self.lm_head.weight)
            else:
                total = total + _chunk_ce_sum(hc, lc, self.lm_head.weight)
        return total / labels.numel()


def _chunk_ce_sum(h, labels, weight):
    logits = F.linear(h, weight).float()
    return F.cross_entropy(logits, labels, reduction="sum")


def _checkpoint(fn, *args):
    from torch.utils.checkpoint import checkpoint
    try:
        return checkpoint(fn, *args, use_reentrant=False)
    except TypeError:  # very old torch without use_reentrant
        return checkpoint(fn, *args)
