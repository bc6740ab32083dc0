"""Compile-time of the Python package: a cold compile (empty caches), a
memory-cache hit, and a disk-cache hit (PTX on disk, fresh memory cache),
for every example spec given (default: causal_gqa_lse) on the CUDA backend.
Needs no GPU: code generation runs on the host.

    python3 bench/compile_time.py [--chip sm_90a] [--repeats 1000] [NAME...]
"""

import argparse
import os
import statistics
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "python-bindings"))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("names", nargs="*", default=["causal_gqa_lse"])
    parser.add_argument("--chip", default="sm_90a")
    parser.add_argument("--repeats", type=int, default=1000)
    args = parser.parse_args()
    os.environ["ATTN_CACHE_DIR"] = tempfile.mkdtemp(prefix="attn-cache-")
    import attn
    for name in args.names:
        path = os.path.join(HERE, "..", "examples", name + ".mlir")
        with open(path) as f:
            spec = f.read()
        attn.clear_memory_cache()
        start = time.perf_counter()
        attn.compile(spec, chip=args.chip)
        cold = time.perf_counter() - start
        hits = []
        for _ in range(args.repeats):
            start = time.perf_counter()
            attn.compile(spec, chip=args.chip)
            hits.append(time.perf_counter() - start)
        attn.clear_memory_cache()
        start = time.perf_counter()
        attn.compile(spec, chip=args.chip)
        disk = time.perf_counter() - start
        print(f"COMPILE {name} chip={args.chip} cold_ms={cold * 1e3:.1f} "
              f"memory_hit_us={statistics.median(hits) * 1e6:.1f} "
              f"disk_hit_ms={disk * 1e3:.1f}", flush=True)


if __name__ == "__main__":
    main()
