#!/usr/bin/env python3
"""Times attn's dense softmax attention and PyTorch SDPA (cuDNN, FA2) on the
same inputs, in one process:

    python3 bench/attention_bench.py [--d 64,128] [--n 4096,8192,16384]
                                     [--tokens 65536] [--skip-peers]

Forward, bf16, 16 heads, B = tokens / N, causal and not. attn's kernel is
the package's Kernel call (attn.compile on the spec below: the flash tile
program on the mma.sync strategy), timed like the peers by
triton.testing.do_bench (median ms). Each attn kernel is first checked against SDPA's output (max
relative error over the output's largest magnitude). ATTN_C_LIBRARY picks
the libattn_c.so, so two builds can be compared on one machine.
"""

import argparse
import os
import sys

import torch
import torch.nn.functional as F
import triton.testing

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "python-bindings"))
import attn  # noqa: E402

SPEC = """
func.func @dense(%q: tensor<?x16x?x{d}xbf16>, %k: tensor<?x16x?x{d}xbf16>,
                 %v: tensor<?x16x?x{d}xbf16>) -> tensor<?x16x?x{d}xbf16> {{
  %o = attn.attention %q, %k, %v {attrs}
      : tensor<?x16x?x{d}xbf16>, tensor<?x16x?x{d}xbf16>,
        tensor<?x16x?x{d}xbf16> -> tensor<?x16x?x{d}xbf16>
  return %o : tensor<?x16x?x{d}xbf16>
}}
"""


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--d", default="64,128")
    parser.add_argument("--n", default="4096,8192,16384")
    parser.add_argument("--tokens", type=int, default=65536)
    parser.add_argument("--skip-peers", action="store_true")
    args = parser.parse_args()
    from torch.nn.attention import SDPBackend, sdpa_kernel
    rows = []
    for d in [int(x) for x in args.d.split(",")]:
        for causal in (False, True):
            spec = SPEC.format(
                d=d, attrs="{mask = #attn.causal}" if causal else "")
            kernels = {"attn": attn.compile(spec)}
            for n in [int(x) for x in args.n.split(",")]:
                b = args.tokens // n
                gen = torch.Generator(device="cuda").manual_seed(0)
                q, k, v = (torch.randn(b, 16, n, d, device="cuda",
                                       dtype=torch.bfloat16, generator=gen)
                           for _ in range(3))
                flops = 4 * b * 16 * n * n * d / (2 if causal else 1)

                def sdpa(backend):
                    with sdpa_kernel([backend]):
                        return F.scaled_dot_product_attention(
                            q, k, v, is_causal=causal)
                ref = sdpa(SDPBackend.CUDNN_ATTENTION).float()
                err = max(((kernel(q, k, v).float() - ref).abs().max()
                           / ref.abs().max()).item()
                          for kernel in kernels.values())
                times = {name: triton.testing.do_bench(
                    lambda kernel=kernel: kernel(q, k, v))
                    for name, kernel in kernels.items()}
                if not args.skip_peers:
                    for name, backend in (
                            ("cudnn", SDPBackend.CUDNN_ATTENTION),
                            ("fa2", SDPBackend.FLASH_ATTENTION)):
                        times[name] = triton.testing.do_bench(
                            lambda: sdpa(backend))
                line = (f"D={d:3d} N={n:5d} B={b:2d} "
                        f"{'causal' if causal else 'dense '} err={err:.1e}")
                for name, ms in times.items():
                    line += (f"  {name} {ms:.3f} ms "
                             f"{flops / ms / 1e9:.0f} TFLOP/s")
                if "cudnn" in times:
                    line += f"  attn/cudnn {times['cudnn'] / times['attn']:.2f}"
                print(line, flush=True)
                rows.append(err)
    if max(rows) > 2e-2:
        print(f"FAILED: max_rel {max(rows):.1e} over 2e-2")
        sys.exit(1)


if __name__ == "__main__":
    main()
