"""Writing a run's checkpoints: the full form (model.pt/optim.pt, gathered on rank 0) in the 1-process and DDP modes,
the sharded one (dcp/, every rank its own shards) in the FSDP modes, and with async_checkpoint (FSDP2, torch >= 2.3)
in the background: torch's async_save copies this rank's shards to host memory, training goes on, and a
writer thread saves them over a separate gloo group (so its collectives never interleave with training's). The
checkpoint is published (state.json written, .tmp- folder renamed) only once every rank's write has finished, at
the next checkpoint or the end of the run; a run killed before that leaves a .tmp- folder, never a partial
checkpoint under a real name."""
import os

from . import checkpoint as ckpt
from . import sharded_io
from .parallel import full_state_dicts, sharded_checkpoints


class CheckpointWriter:
    def __init__(self, run):
        self.run = run
        self.sharded = sharded_checkpoints(run.parallel)
        self.pending = None
        self.group = None
        if run.cfg.async_checkpoint:
            if run.parallel == "fsdp2" and sharded_io.async_available():
                import torch.distributed as dist
                self.group = dist.new_group(backend="gloo")   # every rank creates it, in the same order
            else:
                run.warnings.append("async_checkpoint needs FSDP2 (sharded checkpoints) and torch >= 2.3: "
                                    "checkpoints are written synchronously")

    @property
    def mode(self):
        return "async" if self.group is not None else "sync"

    def state(self, step):
        r, cfg = self.run, self.run.cfg
        return {"step": step, "consumed_samples": step * cfg.global_batch_size,
                "consumed_tokens": step * cfg.tokens_per_step(), "phase": cfg.phase,
                "schedule": r.schedule.state_dict(), "data_signature": r.signature,
                "next_lr": r.schedule.lr_at(step) if step < r.steps else None,
                "last_lr": r.schedule.lr_at(step - 1), "world_size": r.d.world_size,
                "parallel": r.parallel, "format": "dcp" if self.sharded else "full", "identity": r.identity,
                "branched_from": r.branched_from, "hf_base": os.path.abspath(r.hf_base) if r.hf_base else None}

    def save(self, step, emit):
        self.finish(emit)
        r, d = self.run, self.run.d
        tmp = ckpt.tmp_dir_for(r.cfg.run_dir, step)
        if d.main:
            os.makedirs(tmp, exist_ok=True)
        d.barrier()
        ckpt.write_rank_files(tmp, d.rank)
        state = self.state(step)
        if self.sharded and self.group is not None:
            self.pending = (sharded_io.save_async(r.wrapped, r.optimizer, tmp, self.group), step, tmp, state)
            return
        if self.sharded:   # every rank writes its own shards: nothing is gathered
            sharded_io.save(r.wrapped, r.optimizer, tmp)
        else:
            model_state, optim_state = full_state_dicts(r.wrapped, r.model, r.optimizer, r.parallel)
            if d.main:
                ckpt.write_main_files(tmp, model_state, optim_state)
        self._publish(step, tmp, state, emit)

    def finish(self, emit):
        """Wait for a background write and publish it (every rank calls this at the same points)."""
        if self.pending is None:
            return
        future, step, tmp, state = self.pending
        self.pending = None
        future.result()
        self._publish(step, tmp, state, emit)

    def _publish(self, step, tmp, state, emit):
        r, d = self.run, self.run.d
        if d.main:
            ckpt.write_state(tmp, state)
        d.barrier()
        path = ckpt.publish(r.cfg.run_dir, step, r.cfg.keep_checkpoints) if d.main else None
        d.barrier()
        if d.main:
            emit("checkpoint", step=step, path=path)
