import json
import os
import struct
import unittest

import torch

from megamath_trainer.config import preset
from megamath_trainer.hf_io import export_hf, header_names, load_hf_into_model, read_hf_config
from megamath_trainer.model import LlamaForCausalLM
from megamath_trainer.safetensors_io import SafetensorsError, load_file, save_file
from tests.helpers import tmpdir


def model_for(cfg, seed):
    m = LlamaForCausalLM(cfg)
    m.init_weights(seed)
    return m.eval()


class SafetensorsTest(unittest.TestCase):
    def test_round_trip_all_dtypes_and_layout(self):
        d = tmpdir(self)
        tensors = {"a": torch.randn(3, 4), "b": torch.randn(5).to(torch.bfloat16), "c": torch.arange(6).view(2, 3),
                   "d": torch.randn(2, 2).half()}
        path = os.path.join(d, "t.safetensors")
        save_file(tensors, path)
        back = load_file(path)
        for k, t in tensors.items():
            self.assertEqual(back[k].dtype, t.dtype)
            self.assertTrue(torch.equal(back[k], t))
        with open(path, "rb") as f:
            n = struct.unpack("<Q", f.read(8))[0]
            header = json.loads(f.read(n))
        self.assertEqual(n % 8, 0)
        self.assertEqual(header["b"], {"dtype": "BF16", "shape": [5], "data_offsets": [48, 58]})
        self.assertEqual(os.path.getsize(path), 8 + n + 48 + 10 + 48 + 8)

    def test_corrupt_file_is_a_clear_error(self):
        d = tmpdir(self)
        path = os.path.join(d, "bad.safetensors")
        save_file({"x": torch.zeros(4)}, path)
        with open(path, "r+b") as f:
            f.truncate(os.path.getsize(path) - 4)
        with self.assertRaisesRegex(SafetensorsError, r"bad\.safetensors: tensor x has inconsistent offsets"):
            load_file(path)


class HFRoundTripTest(unittest.TestCase):
    def test_export_then_load_gives_equal_logits(self):
        """fp32 export: logits identical. bf16 export (the default, what vLLM loads): identical to the model with
        its weights rounded to bf16."""
        for tied in (True, False):
            cfg = preset("tiny", tie_embeddings=tied)
            src = model_for(cfg, seed=11)
            ids = torch.randint(0, cfg.vocab_size, (2, 16))
            d = tmpdir(self)
            export_hf(src.state_dict(), cfg, os.path.join(d, "fp32"), dtype=torch.float32)
            names = header_names(os.path.join(d, "fp32", "model.safetensors"))
            self.assertEqual("lm_head.weight" in names, not tied)
            self.assertIn("model.layers.1.self_attn.q_proj.weight", names)
            cfg_back = read_hf_config(os.path.join(d, "fp32"))
            self.assertEqual(cfg_back, cfg)
            dst = model_for(cfg_back, seed=99)
            load_hf_into_model(dst, os.path.join(d, "fp32"))
            self.assertTrue(torch.equal(src(ids), dst(ids)))

            export_hf(src.state_dict(), cfg, os.path.join(d, "bf16"))
            with open(os.path.join(d, "bf16", "config.json")) as f:
                hf = json.load(f)
            self.assertEqual((hf["torch_dtype"], hf["tie_word_embeddings"], hf["rope_scaling"]["factor"]),
                             ("bfloat16", tied, 32.0))
            rounded = model_for(cfg, seed=11)
            with torch.no_grad():
                for p in rounded.parameters():
                    p.copy_(p.to(torch.bfloat16).float())
            dst2 = model_for(cfg, seed=5)
            load_hf_into_model(dst2, os.path.join(d, "bf16"))
            self.assertTrue(torch.equal(rounded(ids), dst2(ids)))

    def test_sharded_export_and_base_files(self):
        cfg = preset("tiny", tie_embeddings=False)
        src = model_for(cfg, seed=2)
        d = tmpdir(self)
        base = os.path.join(d, "base")
        os.makedirs(base)
        with open(os.path.join(base, "tokenizer.json"), "w") as f:
            f.write('{"version": "1.0"}')
        with open(os.path.join(base, "config.json"), "w") as f:
            json.dump(dict(cfg.to_hf_config(), transformers_version="4.45.0"), f)
        out = export_hf(src.state_dict(), cfg, os.path.join(d, "hf"), dtype=torch.float32, base_dir=base,
                        max_shard_bytes=100_000)
        files = sorted(os.listdir(out))
        self.assertIn("model.safetensors.index.json", files)
        self.assertIn("tokenizer.json", files)
        self.assertGreater(sum(f.endswith(".safetensors") for f in files), 1)
        with open(os.path.join(out, "config.json")) as f:
            self.assertEqual(json.load(f)["transformers_version"], "4.45.0")
        dst = model_for(cfg, seed=3)
        load_hf_into_model(dst, out)
        ids = torch.randint(0, 512, (1, 8))
        self.assertTrue(torch.equal(src(ids), dst(ids)))

    def test_mismatched_checkpoint_names_the_tensor(self):
        cfg = preset("tiny")
        d = tmpdir(self)
        export_hf(model_for(cfg, 1).state_dict(), cfg, os.path.join(d, "hf"), dtype=torch.float32)
        other = LlamaForCausalLM(preset("tiny", ffn_dim=128))
        with self.assertRaisesRegex(ValueError, r"mlp\.(down|gate|up)_proj\.weight has shape"):
            load_hf_into_model(other, os.path.join(d, "hf"))


if __name__ == "__main__":
    unittest.main()
