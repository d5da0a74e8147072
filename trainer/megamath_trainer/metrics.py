"""Throughput and MFU. MFU = achieved model FLOP/s per GPU / the GPU's dense BF16 peak, with torchtitan's FLOPs per
token (config.ModelConfig.flops_per_token), so numbers compare with the anchors in trainer-anchors.md."""
import torch

# Dense (non-sparse) BF16 tensor-core peaks, FLOP/s, from the vendors' datasheets.
PEAK_BF16 = [("H200", 989e12), ("H100 PCIe", 756e12), ("H100", 989e12), ("H800", 989e12), ("GH200", 989e12),
             ("A100", 312e12), ("A800", 312e12), ("L40S", 362e12), ("A10G", 70e12), ("B200", 2250e12)]


def peak_flops(device):
    """Peak BF16 FLOP/s of `device`, or None when unknown (CPU, unlisted GPU): MFU is then not reported."""
    if device.type != "cuda":
        return None
    name = torch.cuda.get_device_name(device)
    for key, peak in PEAK_BF16:
        if key in name:
            return peak
    return None


class Throughput:
    """Tokens/s per GPU and MFU over the interval since the last report."""

    def __init__(self, flops_per_token, world_size, peak):
        self.flops_per_token, self.world_size, self.peak = flops_per_token, world_size, peak

    def report(self, tokens, seconds):
        tps = tokens / seconds if seconds > 0 else 0.0
        per_gpu = tps / self.world_size
        mfu = per_gpu * self.flops_per_token / self.peak if self.peak else None
        return {"tokens_per_s": tps, "tokens_per_s_per_gpu": per_gpu, "mfu": mfu}
