"""Training entry point: `python -m megamath_trainer.train RUN_CONFIG.json` (or under torchrun).

Progress goes to stdout as one JSON object per line ({"event": "start" | "step" | "checkpoint" | "done" | "error"});
every step's loss also goes to RUN_DIR/metrics.jsonl. Exit codes: 0 done, 1 bad config/data or crash, 3 the loss or
gradient norm became NaN/inf (the step is not applied and no checkpoint is written after it).
"""
import contextlib
import hashlib
import json
import math
import os
import sys
import time

import torch

from . import checkpoint as ckpt
from . import compat, fsdp2, sharded_io
from .attention import pick_backend
from .compatibility import check_identity, run_identity
from .config import ConfigError, load_train_config
from .data import MixtureSamples, Prefetcher, micro_batch_indices
from .hf_io import export_hf, load_hf_into_model
from .indexed import TokenFileError
from .metrics import Throughput, peak_flops
from .model import LlamaForCausalLM
from .optim import build_adamw, param_group_names, reset_hyperparameters
from .parallel import FSDP_MODES, Dist, RendezvousError, choose_parallel, clip_grad_norm, full_state_dicts, wrap
from .saver import CheckpointWriter
from .resume import hyperparameter_changes, last_update_lr, load_checkpoint, read_state_checked
from .schedule import PhaseSchedule


class NonFiniteLoss(RuntimeError):
    pass


def emit(event, **fields):
    sys.stdout.write(json.dumps({"event": event, **fields}) + "\n")
    sys.stdout.flush()


def data_signature(cfg, steps):
    """What fixes the sample stream; resuming with a different one would silently train on other data."""
    desc = {"sources": [[os.path.abspath(s.prefix), s.weight] for s in cfg.sources], "seed": cfg.data_seed_value,
            "seq_len": cfg.seq_len, "global_batch_size": cfg.global_batch_size, "steps": steps, "phase": cfg.phase}
    return hashlib.md5(json.dumps(desc, sort_keys=True).encode()).hexdigest()


class Run:
    def __init__(self, cfg, d):
        self.cfg, self.d = cfg, d
        self.model_cfg = cfg.resolved_model()
        cfg.validate(d.world_size)
        cfg.data_seed_value = cfg.seed if cfg.data_seed is None else cfg.data_seed
        self.steps = cfg.total_steps()
        self.accum = cfg.grad_accum_steps(d.world_size)
        self.signature = data_signature(cfg, self.steps)
        self.identity = run_identity(self.model_cfg, cfg)
        self.warnings = []
        self.step, self.resumed_from, self.branched_from = 0, None, None
        # Which checkpoint this run starts from, checked against this run before anything is built or loaded.
        self.source, self.peak_lr = self.preflight()
        # Where the export's tokenizer files come from: this run's hf_base/init_hf, else the one its source checkpoint
        # recorded (a Decay branch's export must be servable like the Stable run's, without repeating --hf-base).
        inherited = (self.source[2] or {}).get("hf_base")
        self.hf_base = cfg.hf_base or cfg.init_hf or (inherited if inherited and os.path.isdir(inherited) else None)
        dev = d.device
        self.bf16 = cfg.precision == "bf16" or (cfg.precision == "auto" and compat.bf16_supported(dev))
        self.attention = pick_backend(cfg.attention, dev)
        self.parallel = choose_parallel(cfg.parallel, d, cfg.cpu_offload)
        # HSDP: more than one replica of each shard (a 2-D mesh); its all-reduce is skipped on non-final micro-batches
        self.mesh = (fsdp2.mesh_shape(d.world_size, d.local_world_size, cfg.fsdp_shard_size)
                     if self.parallel == "fsdp2" else None)
        self.compile = cfg.compile == "on" or (cfg.compile == "auto" and dev.type == "cuda" and compat.has_compile())

        torch.manual_seed(cfg.seed)
        model = LlamaForCausalLM(self.model_cfg, self.attention, cfg.activation_checkpointing)
        model.init_weights(cfg.seed)
        if cfg.init_hf:
            load_hf_into_model(model, cfg.init_hf)
        # Names and shapes of the unwrapped model, before FSDP renames anything: what a checkpoint must hold.
        self.expected_shapes = {k: tuple(v.shape) for k, v in model.state_dict().items()}
        self.group_names = param_group_names(model, cfg.weight_decay_exclude)   # FSDP1 renames in place
        model.to(dev)
        if self.compile:
            if not compat.has_compile():
                raise ConfigError(f"compile 'on' needs torch >= 2.2 (nn.Module.compile); this is torch {torch.__version__}")
            for layer in model.model.layers:   # per block: compiles fast and keeps HF parameter names
                layer.compile()
        self.model = model
        self.wrapped = wrap(model, self.parallel, d, self.bf16, cfg.fsdp_shard_size, cfg.cpu_offload)
        # With cpu_offload the sharded fp32 parameters, and so AdamW's step, live on the CPU.
        self.optimizer, self.adamw_impl = build_adamw(self.wrapped if self.parallel in FSDP_MODES else model, cfg,
                                                      torch.device("cpu") if cfg.cpu_offload else dev, self.peak_lr)
        self.schedule = PhaseSchedule(cfg.phase, self.peak_lr, self.steps, cfg.final_lr_factor, cfg.warmup_steps)
        self.writer = CheckpointWriter(self)
        self.data = MixtureSamples([(s.prefix, s.weight, s.name) for s in cfg.sources],
                                   self.steps * cfg.global_batch_size, cfg.seq_len, cfg.data_seed_value,
                                   self.model_cfg.vocab_size)

    # --- state -----------------------------------------------------------------------------------------------
    def preflight(self):
        """((kind, path, state.json), peak LR): the checkpoint this run starts from, kind "resume" (the newest
        checkpoint of run_dir), "branch" (init_checkpoint) or None (a fresh start), and the peak LR it implies.
        Reads only state.json files, so a checkpoint made for another model, parameter grouping or data stream is
        refused before any model is built or loaded, on every rank alike."""
        cfg = self.cfg
        latest = ckpt.latest_checkpoint(cfg.run_dir)   # ignores .tmp- leftovers of a kill mid-save
        if latest:
            state = read_state_checked(latest, "checkpoint")
            if state.get("data_signature") != self.signature:
                raise ConfigError(f"{latest}: this run folder was trained with other data/batch/step settings "
                                  f"(signature {state.get('data_signature')} != {self.signature}); use a new run_dir")
            check_identity(state, self.identity, latest, "be resumed by this run (use a new run_dir)")
            recorded = (state.get("schedule") or {}).get("peak")
            if cfg.lr is None and recorded is not None:
                peak = float(recorded)   # the run's own peak, e.g. a Decay peak taken from its Stable checkpoint
            else:
                peak = cfg.peak_lr()
                if recorded is not None and not math.isclose(peak, recorded, rel_tol=1e-9):
                    self.warnings.append(f"the peak LR changed on resume: the checkpoint's run used {recorded}, "
                                         f"this run uses {peak} from step {state.get('step')} on")
            return ("resume", latest, state), peak
        if cfg.init_checkpoint:
            where = os.path.abspath(cfg.init_checkpoint)
            state = read_state_checked(where, "init_checkpoint")
            check_identity(state, self.identity, where, f"start this {cfg.phase} run")
            last = last_update_lr(state)
            if cfg.lr is None and last is not None:
                peak = last   # recipe: the Decay cosine starts at the LR the Stable stage ended with
            else:
                peak = cfg.peak_lr()
                if last is not None and not math.isclose(peak, last, rel_tol=1e-9):
                    self.warnings.append(f"this {cfg.phase} run starts at LR {peak}, but {where} ended at {last}: "
                                         f"the LR jumps at the branch (leave lr unset to continue from {last})")
            return ("branch", where, state), peak
        return (None, None, None), cfg.peak_lr()

    def restore(self):
        cfg, d = self.cfg, self.d
        if d.main:
            ckpt.clean_partial(cfg.run_dir)
        d.barrier()
        kind, path, state = self.source
        if kind is None:
            return
        optim_state = load_checkpoint(self, path)
        # load_state_dict restores the checkpoint's betas/eps/weight decay; this run's config is what config.json
        # records, so it is what runs (a Decay branch may change them; a resume that does is told so).
        changes = hyperparameter_changes(optim_state, cfg)
        reset_hyperparameters(self.optimizer, cfg)
        if kind == "resume":
            if changes:
                self.warnings.append(f"AdamW settings changed on resume ({', '.join(changes)}): this run's are used")
            self.step = int(state["step"])
            rng = ckpt.load_rng(path, d.rank)
            if rng is not None:
                ckpt.set_rng_state(rng)
            self.resumed_from = path
            self.branched_from = state.get("branched_from")
        else:
            # Branch: the weights and AdamW moments of the checkpoint; schedule, step and data stream start fresh.
            self.branched_from = path

    def save(self):
        self.writer.save(self.step, emit)

    def dump_config(self):
        cfg = self.cfg
        record = {
            "train_config": cfg.to_dict(), "model": self.model_cfg.to_hf_config(), "world_size": self.d.world_size,
            "device": str(self.d.device), "grad_accum_steps": self.accum, "total_steps": self.steps,
            "tokens_per_step": cfg.tokens_per_step(), "total_tokens": self.steps * cfg.tokens_per_step(),
            "schedule": self.schedule.describe(),
            "optimizer": {"name": "AdamW", "impl": self.adamw_impl, "betas": [cfg.adam_beta1, cfg.adam_beta2],
                          "eps": cfg.adam_eps, "weight_decay": cfg.weight_decay,
                          "weight_decay_exclude": cfg.weight_decay_exclude, "grad_clip": cfg.grad_clip},
            "backends": {"attention": self.attention, "parallel": self.parallel, "compile": self.compile,
                         "mesh": {"replicate": self.mesh[0], "shard": self.mesh[1]} if self.mesh else None,
                         "cpu_offload": cfg.cpu_offload, "defer_grad_reduce": cfg.defer_grad_reduce,
                         "checkpoints": (f"sharded (torch.distributed.checkpoint, {self.writer.mode})"
                                         if self.writer.sharded else "full (model.pt, optim.pt)"),
                         "precision": "bf16 compute, fp32 master weights" if self.bf16 else "fp32",
                         "doc_masking": cfg.doc_masking, "activation_checkpointing": cfg.activation_checkpointing},
            "data_plan": self.data.plan(), "data_signature": self.signature, "environment": compat.describe(),
            "resumed_from": self.resumed_from, "branched_from": self.branched_from, "warnings": self.warnings,
            "hf_base": self.hf_base,
            "params": self.model_cfg.num_params(), "flops_per_token": self.model_cfg.flops_per_token(cfg.seq_len),
        }
        path = os.path.join(cfg.run_dir, "config.json")
        with open(path + ".tmp", "w") as f:
            json.dump(record, f, indent=2)
        os.replace(path + ".tmp", path)
        return record

    # --- loop ------------------------------------------------------------------------------------------------
    def micro_batches(self):
        """This rank's micro-batches from the current step to the end, built ahead on a background thread."""
        cfg, d = self.cfg, self.d

        def indices():
            for step in range(self.step, self.steps):
                for m in range(self.accum):
                    yield micro_batch_indices(step, m, d.rank, d.world_size, cfg.micro_batch_size,
                                              cfg.global_batch_size)
        return Prefetcher(self.data.batch, indices(), depth=2, pin=d.device.type == "cuda")

    def micro_step(self, batch, sync):
        cfg, dev = self.cfg, self.d.device
        input_ids, labels, positions, doc_ids = (t.to(dev, non_blocking=True) for t in batch)
        if not cfg.doc_masking:
            positions = doc_ids = None
        # No gradient communication on a step's non-final micro-batches: DDP's no_sync; FSDP2 per fsdp2.grad_sync.
        no_sync = self.wrapped.no_sync() if (self.parallel == "ddp" and not sync) else contextlib.nullcontext()
        if self.parallel == "fsdp2":
            fsdp2.grad_sync(self.wrapped, sync, cfg.defer_grad_reduce, self.mesh[0] > 1,
                            keep_unsharded=cfg.cpu_offload and cfg.defer_grad_reduce)
        autocast = (torch.autocast(device_type=dev.type, dtype=torch.bfloat16)
                    if self.bf16 and self.parallel not in FSDP_MODES else contextlib.nullcontext())
        with no_sync:
            with autocast:
                loss = self.wrapped(input_ids, labels, positions, doc_ids, cfg.loss_chunk_tokens)
            (loss / self.accum).backward()
        return loss.detach().float()

    def trim_metrics(self):
        """On resume, drop metric lines of steps after the checkpoint: they are about to be redone."""
        path = os.path.join(self.cfg.run_dir, "metrics.jsonl")
        if not os.path.isfile(path):
            return
        keep = []
        with open(path) as f:
            for line in f:
                try:
                    rec = json.loads(line)
                except ValueError:
                    continue   # a line torn by a kill while it was written
                if rec["step"] <= self.step:
                    keep.append(line if line.endswith("\n") else line + "\n")
        with open(path + ".tmp", "w") as f:
            f.writelines(keep)
        os.replace(path + ".tmp", path)

    def train(self):
        cfg, d = self.cfg, self.d
        if d.main:
            self.trim_metrics()
        meter = Throughput(self.model_cfg.flops_per_token(cfg.seq_len), d.world_size, peak_flops(d.device))
        metrics = open(os.path.join(cfg.run_dir, "metrics.jsonl"), "a") if d.main else None
        self.wrapped.train()
        last_time, last_step = time.perf_counter(), self.step
        batches = self.micro_batches()
        try:
            self._train_loop(batches, meter, metrics, last_time, last_step)
            self.writer.finish(emit)   # the last checkpoint, if still being written in the background
        finally:
            batches.close()
            if metrics:
                metrics.close()

    def _train_loop(self, batches, meter, metrics, last_time, last_step):
        cfg, d = self.cfg, self.d
        while self.step < self.steps:
            lr = self.schedule.lr_at(self.step)
            for g in self.optimizer.param_groups:
                g["lr"] = lr
            loss_sum = torch.zeros((), device=d.device)
            for m in range(self.accum):
                loss_sum += self.micro_step(next(batches), sync=m == self.accum - 1)
            loss = d.all_reduce_mean(loss_sum.item() / self.accum)
            grad_norm = clip_grad_norm(self.wrapped, self.parallel, cfg.grad_clip)
            if not (math.isfinite(loss) and math.isfinite(grad_norm)):
                raise NonFiniteLoss(f"step {self.step + 1}: loss {loss}, grad norm {grad_norm} is not finite; the "
                                    f"update was not applied. Last good checkpoint: {ckpt.latest_checkpoint(cfg.run_dir)}")
            self.optimizer.step()
            self.optimizer.zero_grad(set_to_none=True)
            self.step += 1
            if metrics:
                metrics.write(json.dumps({"step": self.step, "loss": loss, "lr": lr, "grad_norm": grad_norm,
                                          "consumed_samples": self.step * cfg.global_batch_size}) + "\n")
                metrics.flush()
            if self.step % cfg.log_every == 0 or self.step == self.steps:
                if d.device.type == "cuda":
                    torch.cuda.synchronize()
                now = time.perf_counter()
                rate = meter.report((self.step - last_step) * cfg.tokens_per_step(), now - last_time)
                last_time, last_step = now, self.step
                if d.main:
                    emit("step", step=self.step, steps=self.steps, loss=round(loss, 6), lr=lr,
                         grad_norm=round(grad_norm, 6), tokens=self.step * cfg.tokens_per_step(), **rate)
            if self.step % cfg.checkpoint_every == 0 or self.step == self.steps:
                self.save()

    def export(self):
        if self.parallel in FSDP_MODES and sharded_io.available():
            model_state = sharded_io.model_state_full(self.wrapped)   # the model only, never the AdamW state
        elif self.parallel in FSDP_MODES:
            model_state, _ = full_state_dicts(self.wrapped, self.model, self.optimizer, self.parallel)
        else:
            model_state = dict(self.model.state_dict())
        if self.d.main:
            out = export_hf(model_state, self.model_cfg, os.path.join(self.cfg.run_dir, "hf"), base_dir=self.hf_base)
            if not any(os.path.isfile(os.path.join(out, n)) for n in ("tokenizer.json", "tokenizer.model")):
                emit("warning", message=f"{out} has no tokenizer files, so vLLM and transformers cannot serve it as "
                                        f"is: give hf_base (megamath train --hf-base DIR) or copy them in")
            emit("export", path=out)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1 or argv[0] in ("-h", "--help"):
        sys.stderr.write("usage: python -m megamath_trainer.train RUN_CONFIG.json\n")
        return 2
    d = None
    try:
        cfg = load_train_config(argv[0])
        cfg.validate()   # the fields that need no world size, before waiting for the other ranks
        d = Dist(cfg.device, cfg.dist_timeout_s)
        if d.main:
            os.makedirs(cfg.run_dir, exist_ok=True)
        d.barrier()
        run = Run(cfg, d)
        run.restore()
        if d.main:
            for w in run.warnings:
                emit("warning", message=w)
            rec = run.dump_config()
            emit("start", run_dir=cfg.run_dir, steps=run.steps, start_step=run.step, world_size=d.world_size,
                 grad_accum_steps=run.accum, tokens_per_step=cfg.tokens_per_step(), backends=rec["backends"],
                 resumed_from=run.resumed_from, branched_from=run.branched_from, schedule=rec["schedule"])
        run.train()
        if cfg.export_hf:
            run.export()
        if d.main:
            emit("done", steps=run.steps, run_dir=cfg.run_dir)
        return 0
    except NonFiniteLoss as e:
        emit("error", kind="non_finite_loss", message=str(e))
        sys.stderr.write(f"megamath_trainer: stopped: {e}\n")
        return 3
    except RendezvousError as e:
        emit("error", kind="distributed", message=str(e))
        sys.stderr.write(f"megamath_trainer: {e}\n")
        return 1
    except (ConfigError, TokenFileError) as e:
        emit("error", kind="config", message=str(e))
        sys.stderr.write(f"megamath_trainer: {e}\n")
        return 1
    except Exception as e:  # report through the same channel, then the traceback for debugging
        emit("error", kind="crash", message=f"{type(e).__name__}: {e}")
        raise
    finally:
        if d is not None:
            d.close()


if __name__ == "__main__":
    sys.exit(main())
