#!/usr/bin/env python3
"""Times attn's GPU kernels and the peers on the same shapes, in one run.

    python3 bench/run_bench.py [--bin build/bin] [--n 4096] [--b 1]
                               [--only causal_gqa,gla,deltanet]

Shapes are the examples' own, bf16:
  causal_gqa  examples/causal_gqa_lse.mlir: causal attention, 16 query heads
              over 4 KV heads, head dim 128. Peers: PyTorch SDPA with the
              flash and the cuDNN backends, FlexAttention (torch.compile'd,
              causal block mask).
  gla         examples/gla.mlir: gated linear attention, 16 heads, Dk 128,
              Dv 256, per-key log gates. Peer: flash-linear-attention's
              chunk_gla (fla-core).
  deltanet    examples/deltanet.mlir: delta rule, 16 heads, D 128. Peer:
              flash-linear-attention's chunk_delta_rule.

attn's kernel is run by `attn-run --backend=cuda --repeats R` (PTX compiled
in process, host-timed mean of R launches after the inputs are on the
device). Peers are warmed up 5 times, then timed with CUDA events over 20
runs; the median is printed. Every line reads
`BENCH <shape> <impl> b=.. n=.. ms=...`; a peer that is missing or refuses
the shape prints why instead of a time.
"""

import argparse
import os
import re
import statistics
import subprocess

import torch
import torch.nn.functional as F

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


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


def report(shape, impl, b, n, ms, extra=""):
    print(f"BENCH {shape} {impl} b={b} n={n} ms={ms:.3f}{extra}", flush=True)


def run_attn(args, shape, example):
    command = [os.path.join(args.bin, "attn-run"),
               os.path.join(REPO, "examples", example + ".mlir"),
               "--backend=cuda", "--sizes", f"b={args.b},n={args.n}",
               "--repeats", str(args.repeats)]
    run = subprocess.run(command, capture_output=True, text=True)
    match = re.search(r"gpu=([0-9.]+)ms", run.stdout)
    if run.returncode or not match:
        print(f"BENCH {shape} attn failed: {(run.stderr or run.stdout)[-300:]}")
        return
    report(shape, "attn", args.b, args.n, float(match.group(1)))


def try_peer(shape, impl, b, n, fn):
    try:
        report(shape, impl, b, n, timed(fn))
    except Exception as error:  # a missing package or a refused shape
        print(f"BENCH {shape} {impl} unavailable: {type(error).__name__}: "
              f"{str(error)[:200]}", flush=True)


def bench_causal_gqa(args):
    b, n, hq, hk, d = args.b, args.n, 16, 4, 128
    q = torch.randn(b, hq, n, d, device="cuda", dtype=torch.bfloat16)
    k = torch.randn(b, hk, n, d, device="cuda", dtype=torch.bfloat16)
    v = torch.randn(b, hk, n, d, device="cuda", dtype=torch.bfloat16)
    run_attn(args, "causal_gqa", "causal_gqa_lse")
    from torch.nn.attention import SDPBackend, sdpa_kernel

    def sdpa(backend):
        def fn():
            with sdpa_kernel([backend]):
                F.scaled_dot_product_attention(q, k, v, is_causal=True,
                                               enable_gqa=True)
        return fn
    try_peer("causal_gqa", "sdpa_flash", b, n,
             sdpa(SDPBackend.FLASH_ATTENTION))
    try_peer("causal_gqa", "sdpa_cudnn", b, n,
             sdpa(SDPBackend.CUDNN_ATTENTION))
    from torch.nn.attention.flex_attention import (create_block_mask,
                                                   flex_attention)
    mask = create_block_mask(lambda b_, h_, i, j: j <= i, None, None, n, n)
    flex = torch.compile(flex_attention)
    try_peer("causal_gqa", "flex_attention", b, n,
             lambda: flex(q, k, v, block_mask=mask, enable_gqa=True))


def bench_gla(args):
    b, n, h, dk, dv = args.b, args.n, 16, 128, 256
    run_attn(args, "gla", "gla")
    q = torch.randn(b, n, h, dk, device="cuda", dtype=torch.bfloat16)
    k = torch.randn(b, n, h, dk, device="cuda", dtype=torch.bfloat16)
    v = torch.randn(b, n, h, dv, device="cuda", dtype=torch.bfloat16)
    g = F.logsigmoid(torch.randn(b, n, h, dk, device="cuda")) / 16

    def fla_gla():
        from fla.ops.gla import chunk_gla
        chunk_gla(q, k, v, g)
    try_peer("gla", "fla_chunk_gla", b, n, fla_gla)


def bench_deltanet(args):
    b, n, h, d = args.b, args.n, 16, 128
    run_attn(args, "deltanet", "deltanet")
    q = F.normalize(torch.randn(b, n, h, d, device="cuda"), dim=-1).bfloat16()
    k = F.normalize(torch.randn(b, n, h, d, device="cuda"), dim=-1).bfloat16()
    v = torch.randn(b, n, h, d, device="cuda", dtype=torch.bfloat16)
    beta = torch.rand(b, n, h, device="cuda", dtype=torch.bfloat16)

    def fla_delta():
        from fla.ops.delta_rule import chunk_delta_rule
        chunk_delta_rule(q, k, v, beta)
    try_peer("deltanet", "fla_chunk_delta_rule", b, n, fla_delta)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin", default=os.path.join(REPO, "build", "bin"))
    parser.add_argument("--n", type=int, default=4096)
    parser.add_argument("--b", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--only", default="causal_gqa,gla,deltanet")
    args = parser.parse_args()
    torch.manual_seed(0)
    benches = {"causal_gqa": bench_causal_gqa, "gla": bench_gla,
               "deltanet": bench_deltanet}
    for name in args.only.split(","):
        benches[name](args)


if __name__ == "__main__":
    main()
