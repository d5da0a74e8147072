"""FSDP2 (`fully_shard`, per-parameter sharding as DTensors): the sharded mode on torch >= 2.4. FSDP1
(`FullyShardedDataParallel`, parallel.py) is kept only for torch 2.0-2.3, which lack it.

torch 2.4 and 2.5 ship it as torch.distributed._composable.fsdp, 2.6 as torch.distributed.fsdp. What it adds over
FSDP1 here: HSDP on a 2-D device mesh (shard within a node, replicate across nodes), per-micro-batch control of the
gradient reduce-scatter and all-reduce (see grad_sync), CPU offload of parameters, gradients and AdamW state (how an
8B model trains on one 80 GB GPU), and sharded state dicts that torch.distributed.checkpoint saves without any rank
gathering the whole model (sharded_io.py).
"""
import torch

from . import compat


def api():
    """(fully_shard, MixedPrecisionPolicy, CPUOffloadPolicy, OffloadPolicy) of this torch, or None before 2.4."""
    if compat.torch_version() < (2, 4):
        return None
    for where in ("torch.distributed.fsdp", "torch.distributed._composable.fsdp"):
        try:
            mod = __import__(where, fromlist=["fully_shard"])
            return mod.fully_shard, mod.MixedPrecisionPolicy, mod.CPUOffloadPolicy, mod.OffloadPolicy
        except (ImportError, AttributeError):
            continue
    return None


def mesh_shape(world_size, local_world_size, shard_size=0):
    """(replicate, shard) ranks of the device mesh. shard_size 0 = automatic: shard across the ranks of one node and
    replicate across nodes (HSDP) when the job spans whole nodes, else shard across every rank (FSDP). HSDP keeps
    the per-micro-batch all-gathers and reduce-scatters on the node's NVLink and sends only one all-reduce of the
    shard over the network per step."""
    if shard_size == 0:
        local = local_world_size if 0 < local_world_size < world_size else world_size
        shard_size = local if world_size % local == 0 else world_size
    if shard_size < 1 or world_size % shard_size:
        raise ValueError(f"fsdp_shard_size {shard_size} does not divide the {world_size} ranks")
    return world_size // shard_size, shard_size


def _cpu_streams_are_synchronous():
    """torch 2.6's FSDP2 records and waits on stream events; torch.cpu.Stream (a stand-in that exists for device-
    agnostic code) has wait_stream but not record_event/wait_event, so FSDP2 on a CPU mesh (gloo: how it is tested
    without a GPU) fails with AttributeError. On the CPU every op and every non-async gloo collective has finished
    when it returns, so the missing methods are correctly no-ops: record_event gives an already-complete Event."""
    stream = torch.cpu.Stream
    if not hasattr(stream, "record_event"):
        stream.record_event = lambda self, event=None: event if event is not None else torch.cpu.Event()
    if not hasattr(stream, "wait_event"):
        stream.wait_event = lambda self, event: None


def _gloo_reductions_sum_then_divide():
    """FSDP2 averages fp32/bf16 gradients with ReduceOp.AVG. gloo has no AVG: torch 2.6's gloo reduce_scatter_tensor
    silently SUMS (gradients come out world-size times too large; measured on 2 ranks) and its all_reduce raises. For
    fp16 FSDP2 already divides explicitly and reduces with SUM; on a gloo group this makes it take that path for every
    dtype (dividing by the whole data-parallel size before the reduction), which is exact on every backend."""
    import torch.distributed as dist
    try:
        from torch.distributed.fsdp._fully_shard import _fsdp_collectives as coll
    except ImportError:
        from torch.distributed._composable.fsdp import _fsdp_collectives as coll
    orig = getattr(coll, "_get_gradient_divide_factors", None)
    if orig is None or getattr(orig, "megamath_gloo", False):
        return

    def factors(reduce_scatter_group, all_reduce_group, *args, **kwargs):
        out = orig(reduce_scatter_group, all_reduce_group, *args, **kwargs)
        if out == (None, None) and dist.get_backend(reduce_scatter_group) == "gloo":
            n = reduce_scatter_group.size() * (all_reduce_group.size() if all_reduce_group is not None else 1)
            return float(n), 1.0
        return out
    factors.megamath_gloo = True
    coll._get_gradient_divide_factors = factors


def shard(model, device, bf16, shard_size, local_world_size, cpu_offload):
    """fully_shard every decoder layer, then the root (embedding, final norm and lm_head: tied in 1B/3B, so they must
    be one unit). bf16 compute with fp32 sharded master weights and fp32 gradient reduction. Returns the mesh shape.

    The last layer keeps its parameters after forward (backward needs them at once, as torchtitan does). With CPU
    offload no layer does: every all-gather then copies fp32 shards from host memory over PCIe, so the bf16 layers
    stay on the GPU through backward (and, with defer_grad_reduce, across the step's micro-batches: grad_sync), and
    the host-device traffic is once per step instead of three times per micro-batch. On a CPU mesh no layer reshards
    after forward either: in torch 2.6 the re-all-gather in backward trips autograd's version check on CPU tensors;
    it changes when memory is freed, not what is computed."""
    import torch.distributed as dist
    from torch.distributed.device_mesh import init_device_mesh
    fully_shard, MixedPrecisionPolicy, CPUOffloadPolicy, OffloadPolicy = api()
    if device.type == "cpu":
        _cpu_streams_are_synchronous()
        _gloo_reductions_sum_then_divide()
    rep, shards = mesh_shape(dist.get_world_size(), local_world_size, shard_size)
    mesh = (init_device_mesh(device.type, (rep, shards), mesh_dim_names=("replicate", "shard")) if rep > 1
            else init_device_mesh(device.type, (shards,), mesh_dim_names=("shard",)))
    mp = MixedPrecisionPolicy(param_dtype=torch.bfloat16, reduce_dtype=torch.float32) if bf16 else MixedPrecisionPolicy()
    offload = CPUOffloadPolicy(pin_memory=device.type == "cuda") if cpu_offload else OffloadPolicy()
    layers = model.model.layers
    for i, layer in enumerate(layers):
        fully_shard(layer, mesh=mesh, mp_policy=mp, offload_policy=offload,
                    reshard_after_forward=device.type == "cuda" and not cpu_offload and i < len(layers) - 1)
    fully_shard(model, mesh=mesh, mp_policy=mp, offload_policy=offload)
    return rep, shards


def grad_sync(model, final, defer_reduce_scatter, hsdp, keep_unsharded=False):
    """Before each micro-batch's backward. On a non-final micro-batch of a step nothing crosses the network that a
    later one would repeat: HSDP skips the all-reduce across replicas (the reduce-scattered shard accumulates
    locally; no extra memory), and with defer_reduce_scatter the reduce-scatter itself is skipped too (unsharded fp32
    gradients accumulate on each rank: 4 bytes per parameter, which the memory estimate must allow for).
    keep_unsharded (CPU offload with deferred reduction): the gathered bf16 parameters also stay until the step's
    last backward, so host memory is read once per step (2 bytes per parameter on the GPU)."""
    model.set_requires_gradient_sync(final or not defer_reduce_scatter, recurse=True)
    if hsdp:
        model.set_requires_all_reduce(final, recurse=True)
    if keep_unsharded and hasattr(model, "set_reshard_after_backward"):
        model.set_reshard_after_backward(final, recurse=True)
