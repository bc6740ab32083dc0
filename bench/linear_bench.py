#!/usr/bin/env python3
r"""attn's linear-attention kernels against flash-linear-attention (fla), side
by side: forward only, bf16, H = 16 heads, Dk = Dv = 128, a fixed number of
tokens B*T (65536: B = 32, 8, 2 at T = 2048, 8192, 32768).

Four rows per T, each an fla function and the attn spec that computes the
same thing (`attn.linear_attention`, no normalization, scale 1/sqrt(Dk),
chunk 64):

  chunk_simple_gla        scalar log gate g [B,T,H]       gate per_token
  chunk_gla               log gate per key g [B,T,H,Dk]   gate per_key
  chunk_delta_rule        beta [B,T,H]                    rule delta
  chunk_gated_delta_rule  g [B,T,H], beta [B,T,H]         per_token + delta

Inputs are made once per T from a fixed seed: q, k, v ~ N(0, 1) in bf16;
log gates logsigmoid(N(0, 1)) / 16 in fp32 (GLA's normalizer); betas
sigmoid(N(0, 1)) in bf16; for both delta rules q and k L2-normalised per
head (outside either library, which is how fla is used with
use_qk_l2norm_in_kernel=False). fla takes [B, T, H, D], attn [B, H, T, D]:
each library gets its own contiguous copy, made before anything is timed.

Checks first: every kernel of both libraries against a float64 recurrence
at B = 2, T = 256, then attn against fla at each benchmarked shape (max
|diff|, that over max |reference| as max_rel, and the RMS ratio). A
max_rel above --tol, or a non-finite output, is flagged MISMATCH and makes
the script exit with status 1 after the table is printed (so does a call
that raises; its row reads "error"). Timings: the median of
triton.testing.do_bench (warmed up, L2 flushed between runs) of each
library's Python call on the same inputs in the same process; an attn row
whose single warm call takes longer than --max-attn-ms is not timed further
("skipped (N ms per call)"). The column fla/attn is fla ms / attn ms, attn's
speed-up over fla (> 1: attn is faster). A PNG plot goes to --png when
matplotlib is importable.

Run on the GPU machine, with .whl (the fla-core and flash-linear-attention
0.6.0 wheels) and attn's library carried; the whole default run takes a few
minutes, most of it attn's slow calls and fla's first Triton compiles:

  set -o pipefail; python3 -m pip install -q --no-index --no-deps \
      --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl \
    && export PYTHONPATH=/tmp/site:$PWD/python-bindings || exit; \
  PYTHONUNBUFFERED=1 python3 bench/linear_bench.py \
      --png $OUT/linear_bench.png 2>&1 | tee $OUT/linear_bench.log

(ATTN_C_LIBRARY as attn's _capi says, when the library is not in
python-bindings/attn/lib.)

Options: --t 2048 8192, --kernels gla,delta_rule (with or without the
"chunk_" prefix), --tokens, --skip-attn, --skip-fla, --check-only,
--profile (one call of each kernel for ncu --profile-from-start off),
--max-attn-ms, --tol, --seed, --warmup-ms/--rep-ms (do_bench's budgets).
"""

import argparse
import math
import os
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

HEADS, KEY_DIM, VALUE_DIM = 16, 128, 128
GATE_NORMALIZER = 16.0
CHUNK = 64

# What each row feeds its kernel: which q/k (plain or L2-normalised), which
# log gate (attn's gate kind for it), and whether it takes beta.
KERNELS = {
    "chunk_simple_gla": {"qk": ("q", "k"), "gate": "g_token",
                         "gate_kind": "per_token", "beta": False},
    "chunk_gla": {"qk": ("q", "k"), "gate": "g_key",
                  "gate_kind": "per_key", "beta": False},
    "chunk_delta_rule": {"qk": ("q_l2", "k_l2"), "gate": None,
                         "gate_kind": None, "beta": True},
    "chunk_gated_delta_rule": {"qk": ("q_l2", "k_l2"), "gate": "g_token",
                               "gate_kind": "per_token", "beta": True},
}

# The small shape checked against the float64 recurrence.
CHECK_BATCH, CHECK_LENGTH = 2, 256


def parse_args():
    parser = argparse.ArgumentParser(
        description="attn vs flash-linear-attention, linear-attention "
                    "forward kernels (see the module docstring)")
    parser.add_argument("--t", nargs="+", default=["2048", "8192", "32768"],
                        help="sequence lengths T (space- or comma-separated)")
    parser.add_argument("--kernels", nargs="+", default=list(KERNELS),
                        help="subset of " + ", ".join(KERNELS))
    parser.add_argument("--tokens", type=int, default=65536,
                        help="B*T, the same for every T (default 65536)")
    parser.add_argument("--skip-attn", action="store_true")
    parser.add_argument("--skip-fla", action="store_true")
    parser.add_argument("--check-only", action="store_true",
                        help="run the checks, time nothing")
    parser.add_argument("--max-attn-ms", type=float, default=2000.0,
                        help="skip timing attn rows whose single warm call "
                             "takes longer (default 2000)")
    parser.add_argument("--tol", type=float, default=2e-2,
                        help="largest max_rel accepted (default 2e-2)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--warmup-ms", type=float, default=25.0)
    parser.add_argument("--rep-ms", type=float, default=100.0)
    parser.add_argument("--png",
                        default=os.path.join(REPO, "bench", "linear_bench.png"))
    parser.add_argument("--profile", action="store_true",
                        help="for ncu --profile-from-start off: one warm "
                             "call of each library's kernels at each T "
                             "between cudaProfilerStart and Stop; no checks, "
                             "no timing")
    args = parser.parse_args()

    args.t = [int(x) for item in args.t for x in item.split(",") if x]
    names = []
    for item in args.kernels:
        for name in filter(None, item.split(",")):
            full = name if name.startswith("chunk_") else "chunk_" + name
            if full not in KERNELS:
                parser.error(f"unknown kernel {name!r}; choose from "
                             + ", ".join(KERNELS))
            names.append(full)
    args.kernels = names
    for length in args.t:
        if length <= 0 or args.tokens % length:
            parser.error(f"T = {length} does not divide --tokens "
                         f"{args.tokens}")
    if args.skip_attn and args.skip_fla:
        parser.error("--skip-attn and --skip-fla leave nothing to run")
    return args


# --------------------------------------------------------------- inputs

def make_inputs(torch, batch, length, seed):
    """Every tensor any row needs, in fla's layout [B, T, H, ...]."""
    import torch.nn.functional as F
    gen = torch.Generator(device="cuda").manual_seed(seed)

    def normal(*shape):
        return torch.randn(*shape, generator=gen, device="cuda",
                           dtype=torch.float32)

    q = normal(batch, length, HEADS, KEY_DIM)
    k = normal(batch, length, HEADS, KEY_DIM)
    v = normal(batch, length, HEADS, VALUE_DIM)
    return {
        "q": q.bfloat16(), "k": k.bfloat16(), "v": v.bfloat16(),
        "q_l2": F.normalize(q, p=2, dim=-1).bfloat16(),
        "k_l2": F.normalize(k, p=2, dim=-1).bfloat16(),
        "g_token": F.logsigmoid(normal(batch, length, HEADS))
        / GATE_NORMALIZER,
        "g_key": F.logsigmoid(normal(batch, length, HEADS, KEY_DIM))
        / GATE_NORMALIZER,
        "beta": torch.sigmoid(normal(batch, length, HEADS)).bfloat16(),
    }


def attn_layout(inputs):
    """attn's copies: [B, T, H, ...] -> [B, H, T, ...], contiguous."""
    return {name: t.transpose(1, 2).contiguous() for name, t in inputs.items()}


# ------------------------------------------------------------ the calls

def fla_call(name, x, scale):
    """A no-argument function running fla's `name` on `x` ([B,T,H,D]); it
    returns the output [B, T, H, Dv]."""
    spec = KERNELS[name]
    q, k = (x[n] for n in spec["qk"])
    v = x["v"]
    if name == "chunk_simple_gla":
        from fla.ops.simple_gla import chunk_simple_gla
        return lambda: chunk_simple_gla(q, k, v, g=x["g_token"],
                                        scale=scale)[0]
    if name == "chunk_gla":
        from fla.ops.gla import chunk_gla
        return lambda: chunk_gla(q, k, v, g=x["g_key"], scale=scale)[0]
    if name == "chunk_delta_rule":
        from fla.ops.delta_rule import chunk_delta_rule
        return lambda: chunk_delta_rule(q, k, v, beta=x["beta"],
                                        scale=scale)[0]
    from fla.ops.gated_delta_rule import chunk_gated_delta_rule
    return lambda: chunk_gated_delta_rule(q, k, v, g=x["g_token"],
                                          beta=x["beta"], scale=scale)[0]


def attn_call(name, x, scale):
    """The same for attn, on its copies `x` ([B,H,T,D]); the output is
    [B, H, T, Dv]."""
    import attn
    spec = KERNELS[name]
    q, k = (x[n] for n in spec["qk"])
    options = {"scale": scale, "chunk": CHUNK, "causal": True}
    if spec["gate"]:
        options.update(gate=x[spec["gate"]], gate_kind=spec["gate_kind"])
    if spec["beta"]:
        options.update(rule="delta", beta=x["beta"])
    return lambda: attn.linear_attention(q, k, x["v"], **options)


def reference(torch, name, x, scale):
    """The recurrence itself, token by token, in float64 on [B,T,H,D]:
    S_t = a_t S_{t-1} + k_t u_t^T, o_t = S_t^T (scale q_t), with
    u_t = v_t (additive) or beta_t (v_t - (a_t S_{t-1})^T k_t) (delta)."""
    spec = KERNELS[name]
    q, k = (x[n].double() for n in spec["qk"])
    v = x["v"].double()
    batch, length, heads, _ = q.shape
    state = q.new_zeros(batch, heads, KEY_DIM, VALUE_DIM)
    out = torch.empty_like(v)
    for t in range(length):
        if spec["gate"] == "g_token":
            state = state * x["g_token"][:, t].double().exp()[..., None, None]
        elif spec["gate"] == "g_key":
            state = state * x["g_key"][:, t].double().exp()[..., None]
        k_t, update = k[:, t], v[:, t]
        if spec["beta"]:
            recalled = torch.einsum("bhk,bhkv->bhv", k_t, state)
            update = x["beta"][:, t].double()[..., None] * (update - recalled)
        state = state + k_t[..., None] * update[..., None, :]
        out[:, t] = torch.einsum("bhk,bhkv->bhv", scale * q[:, t], state)
    return out


# ----------------------------------------------------- checks and timing

def compare(torch, out, ref):
    """Errors of `out` against `ref` (same shape, any float dtype)."""
    out, ref = out.double(), ref.double()
    diff = (out - ref).abs()
    max_abs = diff.max().item()
    ref_max = ref.abs().max().item()
    return {"max_abs": max_abs,
            "max_rel": max_abs / ref_max if ref_max else math.inf,
            "rms_rel": (diff.norm() / ref.norm()).item(),
            "finite": bool(torch.isfinite(out).all().item())}


def verdict(err, tol):
    return err["finite"] and err["max_rel"] <= tol


def describe(err, tol):
    flag = "ok" if verdict(err, tol) else "MISMATCH <<<<<<<<<<<<"
    finite = "" if err["finite"] else " non-finite output,"
    return (f"max_abs={err['max_abs']:.3e} max_rel={err['max_rel']:.3e} "
            f"rms_rel={err['rms_rel']:.3e},{finite} {flag}")


def warm_call_ms(torch, fn):
    """(output, wall ms) of one call, the GPU synchronized around it."""
    torch.cuda.synchronize()
    start = time.perf_counter()
    out = fn()
    torch.cuda.synchronize()
    return out, (time.perf_counter() - start) * 1e3


def bench_ms(fn, args):
    import triton.testing
    return triton.testing.do_bench(fn, warmup=args.warmup_ms, rep=args.rep_ms,
                                   return_mode="median")


def short_error(error):
    text = f"{type(error).__name__}: {error}".replace("\n", " ")
    return text[:300]


def small_checks(torch, args, libraries, failures):
    """Both libraries against the float64 recurrence on a small shape."""
    print(f"\n== check against a float64 recurrence, B={CHECK_BATCH} "
          f"T={CHECK_LENGTH} H={HEADS} Dk={KEY_DIM} Dv={VALUE_DIM}")
    x = make_inputs(torch, CHECK_BATCH, CHECK_LENGTH, args.seed + 1)
    xa = attn_layout(x) if "attn" in libraries else None
    scale = KEY_DIM ** -0.5
    for name in args.kernels:
        ref = reference(torch, name, x, scale)
        for lib in libraries:
            try:
                if lib == "fla":
                    out = fla_call(name, x, scale)()
                else:
                    out = attn_call(name, xa, scale)().transpose(1, 2)
                torch.cuda.synchronize()
                err = compare(torch, out, ref)
                print(f"  {name:24s} {lib:4s} {describe(err, args.tol)}")
                if not verdict(err, args.tol):
                    failures.append(f"{name} {lib} vs float64 recurrence")
            except Exception as error:  # report and go on with the rest
                print(f"  {name:24s} {lib:4s} ERROR {short_error(error)}")
                failures.append(f"{name} {lib} raised on the small check")


def run_row(torch, args, name, length, batch, x, xa, failures):
    """Check and time one kernel at one T; returns the table's row."""
    row = {"kernel": name, "T": length, "B": batch, "attn": None,
           "fla": None, "attn_note": "", "fla_note": "", "check": ""}
    scale = KEY_DIM ** -0.5
    outputs, calls, attn_probe = {}, {}, None
    if xa is None:
        row["attn_note"] = "not run"
    else:
        try:
            calls["attn"] = attn_call(name, xa, scale)
            out, attn_probe = warm_call_ms(torch, calls["attn"])
            outputs["attn"] = out.transpose(1, 2)
        except Exception as error:
            row["attn_note"] = "error"
            print(f"  {name} T={length} attn ERROR {short_error(error)}")
            failures.append(f"{name} T={length} attn raised")
    if args.skip_fla:
        row["fla_note"] = "not run"
    else:
        try:
            calls["fla"] = fla_call(name, x, scale)
            outputs["fla"] = calls["fla"]()
            torch.cuda.synchronize()
        except Exception as error:
            row["fla_note"] = "error"
            print(f"  {name} T={length} fla ERROR {short_error(error)}")
            failures.append(f"{name} T={length} fla raised")

    if len(outputs) == 2:
        err = compare(torch, outputs["attn"], outputs["fla"])
        row["check"] = f"{err['max_rel']:.1e}"
        print(f"  {name:24s} T={length:<6d} attn vs fla: "
              f"{describe(err, args.tol)}")
        if not verdict(err, args.tol):
            row["check"] += " MISMATCH"
            failures.append(f"{name} T={length} attn vs fla")
    outputs.clear()

    if args.check_only:
        return row
    if "fla" in calls and not row["fla_note"]:
        row["fla"] = bench_ms(calls["fla"], args)
    if "attn" in calls and not row["attn_note"]:
        if attn_probe > args.max_attn_ms:
            row["attn_note"] = f"skipped ({attn_probe:.0f} ms per call)"
            row["attn_probe"] = attn_probe
        else:
            row["attn"] = bench_ms(calls["attn"], args)
    print(f"  {name:24s} T={length:<6d} attn {cell(row, 'attn')}, "
          f"fla {cell(row, 'fla')}, fla/attn {ratio(row)}")
    return row


# ------------------------------------------------------ table and plot

def cell(row, lib):
    if row[lib] is not None:
        return f"{row[lib]:.3f}"
    return row[lib + "_note"] or "-"


def ratio(row):
    if row["attn"] and row["fla"]:
        return f"{row['fla'] / row['attn']:.3g}"
    return "-"


def print_table(rows, args):
    header = ["kernel", "T", "B", "attn ms", "fla ms", "fla/attn"]
    if any(r["check"] for r in rows):
        header.append("max_rel attn vs fla")
    lines = []
    for r in rows:
        line = [r["kernel"], str(r["T"]), str(r["B"]), cell(r, "attn"),
                cell(r, "fla"), ratio(r)]
        if len(header) > 6:
            line.append(r["check"] or "-")
        lines.append(line)
    widths = [max(len(x) for x in column) for column in zip(header, *lines)]
    print(f"\n== forward, bf16, H={HEADS} Dk={KEY_DIM} Dv={VALUE_DIM}, "
          f"B*T={args.tokens}; median ms of triton.testing.do_bench; "
          "fla/attn > 1 means attn is faster")
    for line in [header, ["-" * w for w in widths]] + lines:
        print("  ".join(x.ljust(w) if i == 0 else x.rjust(w)
                        for i, (x, w) in enumerate(zip(line, widths))))


def plot(rows, args):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is not importable: no plot written")
        return
    names = [n for n in args.kernels if any(r["kernel"] == n for r in rows)]
    fig, axes = plt.subplots(1, len(names), figsize=(4.2 * len(names), 3.8),
                             squeeze=False)
    for ax, name in zip(axes[0], names):
        mine = [r for r in rows if r["kernel"] == name]
        for lib, style in (("attn", "o-"), ("fla", "s-")):
            points = [(r["T"], r[lib]) for r in mine if r[lib] is not None]
            if points:
                ax.plot(*zip(*points), style, label=lib)
        probes = [(r["T"], r["attn_probe"]) for r in mine
                  if r.get("attn_probe")]
        if probes:
            ax.plot(*zip(*probes), "x", color="C0",
                    label="attn, one call (not timed)")
        for r in mine:
            if r["attn"] and r["fla"]:
                ax.annotate(f"{r['fla'] / r['attn']:.2g}x",
                            (r["T"], r["attn"]), textcoords="offset points",
                            xytext=(4, 4), fontsize=8)
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_xticks([r["T"] for r in mine])
        ax.set_xticklabels([str(r["T"]) for r in mine])
        ax.set_title(name, fontsize=10)
        ax.set_xlabel(f"T (B*T = {args.tokens})")
        ax.grid(True, which="both", alpha=0.3)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=8)
    axes[0][0].set_ylabel("forward ms (median)")
    fig.suptitle(f"attn vs fla, bf16, H={HEADS}, Dk=Dv={KEY_DIM}", fontsize=11)
    fig.tight_layout()
    os.makedirs(os.path.dirname(os.path.abspath(args.png)), exist_ok=True)
    fig.savefig(args.png, dpi=120)
    print(f"plot written to {args.png}")


# ---------------------------------------------------------------- main

def import_attn():
    """attn from PYTHONPATH, else from this checkout's python-bindings."""
    try:
        import attn
    except ImportError:
        sys.path.insert(0, os.path.join(REPO, "python-bindings"))
        import attn
    return attn


def profile(torch, args, libraries):
    """--profile: each call once warm, then once with the profiler on."""
    scale = KEY_DIM ** -0.5
    with torch.no_grad():
        for length in args.t:
            x = make_inputs(torch, args.tokens // length, length, args.seed)
            xa = attn_layout(x) if "attn" in libraries else None
            for name in args.kernels:
                calls = []
                if "attn" in libraries:
                    calls.append(attn_call(name, xa, scale))
                if "fla" in libraries:
                    calls.append(fla_call(name, x, scale))
                for call in calls:
                    call()
                    torch.cuda.synchronize()
                    torch.cuda.cudart().cudaProfilerStart()
                    call()
                    torch.cuda.synchronize()
                    torch.cuda.cudart().cudaProfilerStop()
                    print(f"profiled {name} T={length}")


def main():
    args = parse_args()
    sys.stdout.reconfigure(line_buffering=True)
    import torch
    if not torch.cuda.is_available():
        sys.exit("linear_bench: no CUDA device; this benchmark needs a GPU")
    libraries = []
    versions = [f"torch {torch.__version__}"]
    if not args.skip_attn:
        versions.append(f"attn {import_attn().__version__}")
        libraries.append("attn")
    if not args.skip_fla:
        import fla
        versions.append(f"fla {fla.__version__}")
        libraries.append("fla")
    try:
        import triton
        versions.append(f"triton {triton.__version__}")
    except ImportError:
        pass
    print(f"device: {torch.cuda.get_device_name()}; " + ", ".join(versions))

    if args.profile:
        profile(torch, args, libraries)
        return
    failures, rows = [], []
    with torch.no_grad():
        small_checks(torch, args, libraries, failures)
        for length in args.t:
            batch = args.tokens // length
            print(f"\n== T={length} B={batch}")
            x = make_inputs(torch, batch, length, args.seed)
            xa = attn_layout(x) if "attn" in libraries else None
            for name in args.kernels:
                rows.append(run_row(torch, args, name, length, batch, x, xa,
                                    failures))
            del x, xa
            torch.cuda.empty_cache()

    print_table(rows, args)
    if not args.check_only:
        plot(rows, args)
    if failures:
        print(f"\nFAILED ({len(failures)}): " + "; ".join(failures))
        sys.exit(1)
    print("\nall checks passed")


if __name__ == "__main__":
    main()
