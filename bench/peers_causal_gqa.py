#!/usr/bin/env python3
"""Times the peers on the shape of examples/causal_gqa_lse.mlir.

    python3 bench/peers_causal_gqa.py [--n 4096] [--b 1]

Causal GQA attention, 16 query heads over 4 KV heads, head dim 128, bf16,
bottom-right causal (Nq == Nk, so the same as top-left): PyTorch SDPA with
the flash and the cuDNN backends, and FlexAttention (torch.compile'd) with a
causal block mask. Each is run 5 times to warm up, then timed with CUDA
events over 20 runs; the median is printed as `PEER name ms=... tflops=...`
(FLOPs counted as 4 * B * H * N * N * D / 2 for the causal half).
attn's own kernel is timed by `attn-run --backend=cuda --repeats`.
"""

import argparse
import statistics

import torch
import torch.nn.functional as F


def timed(fn, warmup=5, runs=20):
    for _ in range(warmup):
        fn()
    torch.cuda.synchronize()
    times = []
    for _ in range(runs):
        start = torch.cuda.Event(enable_timing=True)
        end = torch.cuda.Event(enable_timing=True)
        start.record()
        fn()
        end.record()
        torch.cuda.synchronize()
        times.append(start.elapsed_time(end))
    return statistics.median(times)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=4096)
    parser.add_argument("--b", type=int, default=1)
    args = parser.parse_args()
    b, n, hq, hk, d = args.b, args.n, 16, 4, 128
    torch.manual_seed(0)
    q = torch.randn(b, hq, n, d, device="cuda", dtype=torch.bfloat16)
    k = torch.randn(b, hk, n, d, device="cuda", dtype=torch.bfloat16)
    v = torch.randn(b, hk, n, d, device="cuda", dtype=torch.bfloat16)
    flops = 4 * b * hq * n * n * d / 2

    from torch.nn.attention import SDPBackend, sdpa_kernel
    results = {}
    for name, backend in (("sdpa_flash", SDPBackend.FLASH_ATTENTION),
                          ("sdpa_cudnn", SDPBackend.CUDNN_ATTENTION)):
        try:
            with sdpa_kernel([backend]):
                results[name] = timed(lambda: F.scaled_dot_product_attention(
                    q, k, v, is_causal=True, enable_gqa=True))
        except Exception as error:  # a backend may refuse the shape
            print(f"PEER {name} unavailable: {type(error).__name__}: {error}")

    from torch.nn.attention.flex_attention import (create_block_mask,
                                                   flex_attention)
    mask = create_block_mask(lambda b_, h_, i, j: j <= i, None, None, n, n)
    flex = torch.compile(flex_attention)
    results["flex_attention"] = timed(
        lambda: flex(q, k, v, block_mask=mask, enable_gqa=True))

    for name, ms in results.items():
        print(f"PEER {name} b={b} n={n} hq={hq} hk={hk} d={d} ms={ms:.3f} "
              f"tflops={flops / ms / 1e9:.1f}")


if __name__ == "__main__":
    main()
