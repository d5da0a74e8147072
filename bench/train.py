#!/usr/bin/env python3
"""Trainer throughput benchmark: tokens/s/GPU and MFU of the bundled trainer's training step (forward, chunked loss,
backward, grad clip, AdamW) at seq 8192, for the Llama-3.2-1B and 3B presets with random weights and random tokens.

    python3 bench/train.py                              # 1B and 3B on one CUDA GPU (bf16, compile/attention auto)
    python3 bench/train.py --preset 3b --micro-batch 2 --activation-checkpointing
    python3 bench/train.py --preset 8b --cpu-offload --accum 8 --ac-every 1   # the 1-GPU 8B setting (FSDP2 offload)
    /usr/bin/python3 bench/train.py --preset tiny --device cpu --seq-len 256 --steps 3   # CPU smoke test

MFU uses torchtitan's FLOPs/token (6 x matmul params incl. lm_head + 12 L d S, full S x S attention) over the GPU's
dense BF16 peak (H100/H200 SXM: 989 TFLOP/s), so it compares with the rows in trainer-anchors.md section 0.
Per-step times are the median over --steps timed steps after --warmup untimed ones (compilation happens there).
Needs a CUDA GPU for the real presets and says so clearly without one. With --cpu-offload the step is what
`megamath train` runs for 8B on one GPU: FSDP2 on a 1-rank group, fp32 weights/gradients/AdamW in host memory,
bf16 weights and fp32 gradients kept on the GPU across --accum micro-batches, fused AdamW on the CPU (torch >= 2.4);
a "step" is then --accum micro-batches and one optimizer step. Compare peak_memory_gib with the estimate that
`megamath train --dry-run` prints for the same preset, sequence length and micro-batch.
"""
import argparse
import json
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "trainer"))

import torch  # noqa: E402

from megamath_trainer import compat, fsdp2  # noqa: E402
from megamath_trainer.attention import pick_backend  # noqa: E402
from megamath_trainer.config import preset  # noqa: E402
from megamath_trainer.metrics import peak_flops  # noqa: E402
from megamath_trainer.model import LlamaForCausalLM  # noqa: E402


def synthetic_batch(mbs, seq, vocab, gen, device):
    """Random tokens packed from documents of random length (mean ~1,000 tokens, like web text), so the document
    masking path does real block-causal work."""
    ids = torch.randint(0, vocab, (mbs, seq + 1), generator=gen)
    doc_ids = torch.zeros(mbs, seq, dtype=torch.long)
    positions = torch.zeros(mbs, seq, dtype=torch.long)
    for b in range(mbs):
        lengths, total = [], 0
        while total < seq:
            n = int(torch.randint(50, 2000, (1,), generator=gen))
            lengths.append(min(n, seq - total))
            total += lengths[-1]
        doc_ids[b] = torch.repeat_interleave(torch.arange(len(lengths)), torch.tensor(lengths))
        positions[b] = torch.cat([torch.arange(n) for n in lengths])
    return (ids[:, :-1].to(device), ids[:, 1:].to(device), positions.to(device), doc_ids.to(device))


def bench_one(name, args, device):
    cfg = preset(name)
    attention = pick_backend(args.attention, device)
    use_compile = args.compile == "on" or (args.compile == "auto" and device.type == "cuda" and compat.has_compile())
    bf16 = device.type == "cuda"
    torch.manual_seed(0)
    ac = args.ac_every if args.ac_every is not None else int(args.activation_checkpointing)
    model = LlamaForCausalLM(cfg, attention, ac)
    model.init_weights(0)
    model.to(device).train()
    if use_compile:
        for layer in model.model.layers:
            layer.compile()
    if args.cpu_offload:
        import torch.distributed as dist
        if not dist.is_initialized():
            dist.init_process_group("nccl" if device.type == "cuda" else "gloo", store=dist.HashStore(), rank=0,
                                    world_size=1)
        fsdp2.shard(model, device, bf16, 0, 1, cpu_offload=True)
    fused = device.type == "cuda" or args.cpu_offload   # offload: the CPU fused kernel (torch >= 2.4)
    kwargs = {"fused": True} if fused and compat.has_fused_adamw() else {}
    opt = torch.optim.AdamW(model.parameters(), lr=1e-5, betas=(0.9, 0.95), eps=1e-8, weight_decay=0.1, **kwargs)
    gen = torch.Generator().manual_seed(1)
    batches = [synthetic_batch(args.micro_batch, args.seq_len, cfg.vocab_size, gen, device) for _ in range(2)]
    times = []
    for step in range(args.warmup + args.steps):
        inp, lab, pos, doc = batches[step % 2]
        if not args.doc_masking:
            pos = doc = None
        if device.type == "cuda":
            torch.cuda.synchronize()
        t0 = time.perf_counter()
        for micro in range(args.accum):
            if args.cpu_offload:   # bf16 via FSDP2's mixed-precision policy, as the trainer
                fsdp2.grad_sync(model, micro == args.accum - 1, True, False, keep_unsharded=True)
            with torch.autocast(device_type=device.type, dtype=torch.bfloat16, enabled=bf16 and not args.cpu_offload):
                loss = model(inp, lab, pos, doc, args.loss_chunk)
            (loss / args.accum).backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        opt.zero_grad(set_to_none=True)
        if device.type == "cuda":
            torch.cuda.synchronize()
        if step >= args.warmup:
            times.append(time.perf_counter() - t0)
        if not torch.isfinite(loss):
            raise RuntimeError(f"{name}: loss became {loss.item()}")
    step_s = statistics.median(times)
    tokens = args.accum * args.micro_batch * args.seq_len
    tps = tokens / step_s
    peak = peak_flops(device)
    fpt = cfg.flops_per_token(args.seq_len)
    result = {
        "preset": name, "params": cfg.num_params(), "seq_len": args.seq_len, "micro_batch": args.micro_batch,
        "device": torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu", "torch": torch.__version__,
        "attention": attention, "compile": use_compile, "doc_masking": args.doc_masking, "accum": args.accum,
        "cpu_offload": args.cpu_offload, "adamw": "fused" if kwargs else "default",
        "activation_checkpointing": model.activation_checkpointing,
        "precision": ("bf16 FSDP2 policy" if args.cpu_offload else "bf16 autocast") + ", fp32 master" if bf16 else "fp32",
        "step_s_median": step_s, "step_s_all": times, "tokens_per_s_per_gpu": tps, "flops_per_token": fpt,
        "mfu": tps * fpt / peak if peak else None,
        "peak_memory_gib": torch.cuda.max_memory_allocated(device) / 2 ** 30 if device.type == "cuda" else None,
    }
    del model, opt
    if device.type == "cuda":
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats(device)
    return result


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--preset", default="1b,3b", help="comma list of presets (1b, 3b, 8b, tiny)")
    ap.add_argument("--seq-len", type=int, default=8192)
    ap.add_argument("--micro-batch", type=int, default=1)
    ap.add_argument("--steps", type=int, default=10, help="timed steps")
    ap.add_argument("--warmup", type=int, default=3, help="untimed steps first (compilation, allocator warm-up)")
    ap.add_argument("--attention", default="auto", choices=["auto", "flex", "sdpa", "math"])
    ap.add_argument("--compile", default="auto", choices=["auto", "on", "off"])
    ap.add_argument("--activation-checkpointing", action="store_true", help="recompute every layer (--ac-every 1)")
    ap.add_argument("--ac-every", type=int, default=None, help="recompute every k-th layer (0 = none)")
    ap.add_argument("--no-doc-masking", dest="doc_masking", action="store_false")
    ap.add_argument("--loss-chunk", type=int, default=2048, help="cross-entropy chunk (the trainer's default)")
    ap.add_argument("--device", default="cuda", choices=["cuda", "cpu"])
    ap.add_argument("--cpu-offload", action="store_true",
                    help="FSDP2 CPU offload on one process (what 8B on one GPU runs; torch >= 2.4)")
    ap.add_argument("--accum", type=int, default=1, help="micro-batches per optimizer step")
    ap.add_argument("--json", action="store_true", help="print one JSON object per preset only")
    args = ap.parse_args()
    names = [n.strip() for n in args.preset.split(",") if n.strip()]
    if args.device == "cuda" and not torch.cuda.is_available():
        sys.stderr.write(f"bench/train.py: no CUDA GPU visible to torch {torch.__version__}; tokens/s/GPU and MFU need one. "
                         "For a CPU smoke test: --preset tiny --device cpu --seq-len 256 --steps 3\n")
        return 2
    if args.device == "cpu" and any(n != "tiny" for n in names):
        sys.stderr.write("bench/train.py: on CPU only --preset tiny is sensible (the 1B step alone takes minutes)\n")
        return 2
    if args.cpu_offload and fsdp2.api() is None:
        sys.stderr.write(f"bench/train.py: --cpu-offload needs FSDP2 (torch >= 2.4); this is torch {torch.__version__}\n")
        return 2
    if args.accum < 1:
        sys.stderr.write("bench/train.py: --accum must be >= 1\n")
        return 2
    device = torch.device(args.device)
    for name in names:
        r = bench_one(name, args, device)
        if args.json:
            print(json.dumps(r))
            continue
        mfu = f"{r['mfu'] * 100:.1f}%" if r["mfu"] is not None else "n/a (no known peak for this device)"
        mem = f", peak memory {r['peak_memory_gib']:.1f} GiB" if r["peak_memory_gib"] is not None else ""
        print(f"{name}: {r['tokens_per_s_per_gpu']:,.0f} tokens/s/GPU, MFU {mfu}, step {r['step_s_median']:.3f} s "
              f"(median of {args.steps}), seq {args.seq_len} x micro-batch {args.micro_batch}, {r['device']}, "
              f"torch {r['torch']}, attention {r['attention']}, compile {r['compile']}{mem}")
        print(json.dumps(r))
    return 0


if __name__ == "__main__":
    sys.exit(main())
