#!/usr/bin/env python3
"""Check attn-run's reference kernels against an independent float64 model.

Usage:
    python3 test/reference/check_reference_kernels.py build/bin/attn-run \
        [--only NAME] [--seed S] [--tol T] [--keep DIR]

For every case of the table below, the script runs

    attn-run examples/<example>.mlir --sizes <sizes> --seed S --write-outputs DIR

loads every kernel argument DIR/<name>.npy, evaluates the spec in float64 with
attn_reference.py (written from docs/semantics.md only), and compares each
output the kernel wrote (output, lse, final_state):

    max|got - ref| / max|ref| <= tol   (default 1e-4)

where NaN must meet NaN and +-inf must meet the same infinity.  The
attributes, masks and regions of each example are transcribed by hand into
the table; keep them in sync with examples/*.mlir.

Prints one line per case, `PASS name max_rel_err=...` or `FAIL name ...`,
then `N passed, M failed`; exits 1 on any failure.
"""

import argparse
import math
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import attn_reference as R  # noqa: E402
import example_refs as E  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
EXAMPLES = os.path.join(REPO, "examples")


# ----------------------------------------------------------------------------
# The transcriptions of the examples live in example_refs.py, shared with the
# GPU suite; here they are evaluated with the NumPy model.
# ----------------------------------------------------------------------------

def _numpy(ref):
    return lambda a: ref(a, R)


# ----------------------------------------------------------------------------
# The table: (case name, example, --sizes, reference, extra check or None)
# ----------------------------------------------------------------------------

def check_empty_rows(a, nq, nk):
    """Causal bottom-right with Nq > Nk: rows i < Nq - Nk keep no key (3.4):
    output exactly +0.0 and lse exactly -inf."""
    n_empty = nq - nk
    out = a["output"][:, :, :n_empty]
    lse = a["lse"][:, :, :n_empty]
    msgs = []
    if not (out == 0).all():
        msgs.append(f"empty rows: output not 0 (max|o|={np.abs(out).max()})")
    elif np.signbit(out).any():
        msgs.append("empty rows: output is -0.0, doc says +0.0")
    if not (lse == -np.inf).all():
        msgs.append(f"empty rows: lse not -inf (e.g. {lse.ravel()[:4]})")
    if not np.isfinite(a["lse"][:, :, n_empty:]).all():
        msgs.append("non-empty rows: non-finite lse")
    return msgs


# --- Special values (2.3, 2.4, 6.4): perturb the seeded inputs, run again
# with --inputs.  Each perturbation takes and returns the dict of inputs.

def perturb_masked_nan_v(a):
    """NaN in the value of the last key, which only the last query keeps:
    masked values must not leak (2.4)."""
    a["value"][:, :, -1, :] = np.nan
    return a


def perturb_inf_scores(a):
    """Row 5 of batch 0 (causal, keys 0..5 kept): k[.., 0] > 0 on the kept
    keys of every KV head; query head 0 gets q[.., 0] = +inf (every kept
    score +inf), head 1 gets -inf (every kept score -inf: under softmax an
    empty row), head 2 NaN (every kept score NaN)."""
    k = a["key"]
    k[0, :, :6, 0] = np.abs(k[0, :, :6, 0]) + 0.25
    a["query"][0, 0, 5, 0] = np.inf
    a["query"][0, 1, 5, 0] = -np.inf
    a["query"][0, 2, 5, 0] = np.nan
    return a


def perturb_neg_inf_gate(a):
    """-inf log gates reset the state (6.4): whole steps and, for per_key
    gates, half of the features of one step."""
    g = a["gate"]
    if g.ndim == 1:                       # per_head: head 3 always resets
        g[3] = -np.inf
    else:
        n = g.shape[2]
        for t in sorted({min(10, n - 1), n // 2 + 3, n - 5}):
            g[:, :, t] = -np.inf
        if g.ndim == 4:
            g[0, 0, n // 3, : g.shape[3] // 2] = -np.inf
    return a


CASES = [
    # attn.attention
    ("causal_gqa_lse", "causal_gqa_lse", "b=2,n=37", _numpy(E.ref_causal_gqa_lse), None),
    ("causal_gqa_lse@nq<nk", "causal_gqa_lse", "b=2,nq=30,nk=45",
     _numpy(E.ref_causal_gqa_lse), None),
    ("causal_gqa_lse@empty_rows", "causal_gqa_lse", "b=2,nq=45,nk=30",
     _numpy(E.ref_causal_gqa_lse), lambda a: check_empty_rows(a, 45, 30)),
    ("block_sparse_flex", "block_sparse_flex", "b=2,n=37",
     _numpy(E.ref_block_sparse_flex), None),
    ("block_sparse_flex@n=300", "block_sparse_flex", "b=1,n=300",
     _numpy(E.ref_block_sparse_flex), None),
    ("cross_attention_pooling_mqa", "cross_attention_pooling_mqa",
     "b=2,nq=30,nk=45", _numpy(E.ref_cross_attention_pooling_mqa), None),
    ("sigma_diffqkv", "sigma_diffqkv", "b=2,n=37", _numpy(E.ref_sigma_diffqkv), None),
    ("softcap_sliding_window", "softcap_sliding_window", "b=2,n=37",
     _numpy(E.ref_softcap_sliding_window), None),
    # Windows of 1024/1020 keys: a short query block over a long key range
    # (bottom-right aligned) cuts the window without an n=1100 self-attention.
    ("softcap_sliding_window@nq<nk", "softcap_sliding_window",
     "b=1,nq=40,nk=1100", _numpy(E.ref_softcap_sliding_window), None),
    ("streaming_llm_sinks", "streaming_llm_sinks", "b=2,n=37",
     _numpy(E.ref_streaming_llm_sinks), None),
    ("streaming_llm_sinks@nq<nk", "streaming_llm_sinks", "b=1,nq=40,nk=1100",
     _numpy(E.ref_streaming_llm_sinks), None),
    ("alibi", "alibi", "b=2,n=37", _numpy(E.ref_alibi), None),
    ("alibi@nq<nk", "alibi", "b=2,nq=20,nk=45", _numpy(E.ref_alibi), None),
    ("document_mask", "document_mask", "b=2,n=37", _numpy(E.ref_document_mask), None),
    ("prefix_lm", "prefix_lm", "b=2,n=37", _numpy(E.ref_prefix_lm), None),
    ("prefix_lm@n=300", "prefix_lm", "b=1,n=300", _numpy(E.ref_prefix_lm), None),
    ("prefix_lm@nq<nk", "prefix_lm", "b=1,nq=50,nk=300", _numpy(E.ref_prefix_lm), None),
    ("diag_attention", "diag_attention", "b=2,n=37", _numpy(E.ref_diag_attention), None),
    ("diag_attention@n=150", "diag_attention", "b=2,n=150",
     _numpy(E.ref_diag_attention), None),
    ("strided_shard", "strided_shard", "b=2,n=37", _numpy(E.ref_strided_shard), None),
    ("strided_shard@n=600", "strided_shard", "b=1,n=600", _numpy(E.ref_strided_shard),
     None),
    ("duo_attention", "duo_attention", "b=2,n=37", _numpy(E.ref_duo_attention), None),
    ("duo_attention@n=400", "duo_attention", "b=1,n=400", _numpy(E.ref_duo_attention),
     None),
    ("transfusion_mask_mod", "transfusion_mask_mod",
     "b=2,n=37,capture0=2x37", _numpy(E.ref_transfusion_mask_mod), None),
    ("sigmoid_attention", "sigmoid_attention", "b=2,n=37",
     _numpy(E.ref_sigmoid_attention), None),
    ("softplus_l1_attention", "softplus_l1_attention", "b=2,n=37",
     _numpy(E.ref_softplus_l1_attention), None),
    ("relu_attention", "relu_attention", "b=1", _numpy(E.ref_relu_attention), None),
    ("neighborhood_2d", "neighborhood_2d", "b=1", _numpy(E.ref_neighborhood_2d), None),
    ("neighborhood_3d_video", "neighborhood_3d_video", "b=1,n=2048",
     _numpy(E.ref_neighborhood_3d_video), None),
    # attn.linear_attention
    ("elu_linear_attention", "elu_linear_attention", "b=2,n=37",
     _numpy(E.ref_elu_linear_attention), None),
    ("elu_linear_attention_stateful", "elu_linear_attention_stateful",
     "b=2,n=37", _numpy(E.ref_elu_linear_attention_stateful), None),
    ("based_taylor_linear_attention", "based_taylor_linear_attention",
     "b=2,n=37", _numpy(E.ref_based_taylor_linear_attention), None),
    ("hedgehog_linear_attention", "hedgehog_linear_attention", "b=2,n=37",
     _numpy(E.ref_hedgehog_linear_attention), None),
    ("transnormerllm_lightning_attention",
     "transnormerllm_lightning_attention", "b=2,n=37",
     _numpy(E.ref_transnormerllm_lightning_attention), None),
    ("norm_attention", "norm_attention", "b=2,n=37", _numpy(E.ref_norm_attention), None),
    ("retnet_retention", "retnet_retention", "b=2,n=37",
     _numpy(E.ref_retnet_retention), None),
    ("mamba2_ssd", "mamba2_ssd", "b=2,n=37", _numpy(E.ref_mamba2_ssd), None),
    ("mamba2_ssd@n=300", "mamba2_ssd", "b=1,n=300", _numpy(E.ref_mamba2_ssd), None),
    ("gla", "gla", "b=2,n=37", _numpy(E.ref_gla), None),
    ("gla@n=150", "gla", "b=1,n=150", _numpy(E.ref_gla), None),
    ("deltanet", "deltanet", "b=2,n=37", _numpy(E.ref_deltanet), None),
    ("deltanet@n=150", "deltanet", "b=1,n=150", _numpy(E.ref_deltanet), None),
    ("gated_deltanet", "gated_deltanet", "b=2,n=37", _numpy(E.ref_gated_deltanet), None),
    ("gated_deltanet@n=150", "gated_deltanet", "b=1,n=150",
     _numpy(E.ref_gated_deltanet), None),
    ("elu_linear_attention_stateful@n=150", "elu_linear_attention_stateful",
     "b=1,n=150", _numpy(E.ref_elu_linear_attention_stateful), None),
    # attn.hybrid
    ("lolcats_hybrid", "lolcats_hybrid", "b=2,n=37", _numpy(E.ref_lolcats_hybrid), None),
    ("lolcats_hybrid@n=150", "lolcats_hybrid", "b=1,n=150",
     _numpy(E.ref_lolcats_hybrid), None),
    ("liger_hybrid", "liger_hybrid", "b=2,n=37", _numpy(E.ref_liger_hybrid), None),
    ("liger_hybrid@n=150", "liger_hybrid", "b=1,n=150", _numpy(E.ref_liger_hybrid),
     None),
    ("based_hybrid", "based_hybrid", "b=2,n=37", _numpy(E.ref_based_hybrid), None),
    ("based_hybrid@n=150", "based_hybrid", "b=1,n=150", _numpy(E.ref_based_hybrid),
     None),
    # Special values (inputs perturbed, then attn-run --inputs).
    ("causal_gqa_lse@nan_in_masked_v", "causal_gqa_lse", "b=2,n=37",
     _numpy(E.ref_causal_gqa_lse), None, perturb_masked_nan_v),
    ("causal_gqa_lse@inf_scores", "causal_gqa_lse", "b=2,n=37",
     _numpy(E.ref_causal_gqa_lse), None, perturb_inf_scores),
    ("sigmoid_attention@inf_scores", "sigmoid_attention", "b=2,n=37",
     _numpy(E.ref_sigmoid_attention), None, perturb_inf_scores),
    ("softplus_l1_attention@inf_scores", "softplus_l1_attention", "b=2,n=37",
     _numpy(E.ref_softplus_l1_attention), None, perturb_inf_scores),
    ("retnet_retention@neg_inf_gate", "retnet_retention", "b=2,n=37",
     _numpy(E.ref_retnet_retention), None, perturb_neg_inf_gate),
    ("mamba2_ssd@neg_inf_gate", "mamba2_ssd", "b=1,n=300", _numpy(E.ref_mamba2_ssd),
     None, perturb_neg_inf_gate),
    ("gla@neg_inf_gate", "gla", "b=1,n=150", _numpy(E.ref_gla), None,
     perturb_neg_inf_gate),
    ("gated_deltanet@neg_inf_gate", "gated_deltanet", "b=1,n=150",
     _numpy(E.ref_gated_deltanet), None, perturb_neg_inf_gate),
    ("liger_hybrid@neg_inf_gate", "liger_hybrid", "b=1,n=150",
     _numpy(E.ref_liger_hybrid), None, perturb_neg_inf_gate),
]

OUTPUT_NAMES = ("output", "lse", "final_state")


# ----------------------------------------------------------------------------
# Self-test of the reference against the worked examples of docs 3.4.
# ----------------------------------------------------------------------------

def _pattern(rows):
    return np.array([[c == "1" for c in r.split()] for r in rows])


def selftest_masks():
    msgs = []

    def expect(name, mask, nq, nk, rows, H=1):
        got = mask.array(1, H, nq, nk)[0, 0]
        if not (got == _pattern(rows)).all():
            msgs.append(f"{name}: got\n{got.astype(int)}")

    expect("causal 3x5", R.causal(), 3, 5, ["1 1 1 . .", "1 1 1 1 .",
                                            "1 1 1 1 1"])
    expect("causal top_left 3x5", R.causal(align="top_left"), 3, 5,
           ["1 . . . .", "1 1 . . .", "1 1 1 . ."])
    expect("causal 5x3", R.causal(), 5, 3, [". . .", ". . .", "1 . .",
                                            "1 1 .", "1 1 1"])
    expect("nbhd 1d", R.neighborhood([7], [3]), 7, 7, [
        "1 1 1 . . . .", "1 1 1 . . . .", ". 1 1 1 . . .", ". . 1 1 1 . .",
        ". . . 1 1 1 .", ". . . . 1 1 1", ". . . . 1 1 1"])
    expect("nbhd dilated", R.neighborhood([8], [3], dilation=[2]), 8, 8, [
        "1 . 1 . 1 . . .", ". 1 . 1 . 1 . .", "1 . 1 . 1 . . .",
        ". 1 . 1 . 1 . .", ". . 1 . 1 . 1 .", ". . . 1 . 1 . 1",
        ". . 1 . 1 . 1 .", ". . . 1 . 1 . 1"])
    expect("nbhd causal", R.neighborhood([8], [3], causal_axes=[0]), 8, 8, [
        "1 . . . . . . .", "1 1 . . . . . .", "1 1 1 . . . . .",
        ". 1 1 1 . . . .", ". . 1 1 1 . . .", ". . . 1 1 1 . .",
        ". . . . 1 1 1 .", ". . . . . 1 1 1"])
    m2 = R.neighborhood([4, 5], [3, 3]).array(1, 1, 20, 20)[0, 0]
    if set(np.nonzero(m2[6])[0]) != {0, 1, 2, 5, 6, 7, 10, 11, 12}:
        msgs.append(f"nbhd 2d query 6: {np.nonzero(m2[6])[0]}")
    if set(np.nonzero(m2[19])[0]) != {7, 8, 9, 12, 13, 14, 17, 18, 19}:
        msgs.append(f"nbhd 2d query 19: {np.nonzero(m2[19])[0]}")
    ss = R.strided_shard(stride=3, block=2).array(1, 5, 1, 12)[0, :, 0]
    for h, keys in [(0, {0, 1, 6, 7}), (1, {2, 3, 8, 9}), (2, {4, 5, 10, 11}),
                    (4, {2, 3, 8, 9})]:
        if set(np.nonzero(ss[h])[0]) != keys:
            msgs.append(f"strided_shard head {h}: {np.nonzero(ss[h])[0]}")
    # prefix_lm == or<[causal, sinks<P>]> (3.2), on a few length pairs.
    for nq, nk in [(7, 7), (4, 9), (9, 4)]:
        a = R.prefix_lm(3).array(1, 1, nq, nk)
        b = R.or_(R.causal(), R.sinks(3)).array(1, 1, nq, nk)
        if not (a == b).all():
            msgs.append(f"prefix_lm != or<causal, sinks> at {nq}x{nk}")
    # taylor2: phi(x).phi(y) = 1 + x.y + (x.y)^2/2 (6.2).
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((2, 1, 1, 1, 5))
    fx = R.feature_map_apply(x, "taylor2")
    fy = R.feature_map_apply(y, "taylor2")
    xy = float((x * y).sum())
    if abs(float((fx * fy).sum()) - (1 + xy + xy * xy / 2)) > 1e-12:
        msgs.append("taylor2 identity")
    return msgs


# ----------------------------------------------------------------------------
# Driver
# ----------------------------------------------------------------------------

def rel_err(got, ref):
    """max|got-ref| / max|ref|, NaN-equal and inf-equal; inf on mismatch."""
    got = np.asarray(got, np.float64)
    ref = np.asarray(ref, np.float64)
    if got.shape != ref.shape:
        return math.inf, f"shape {got.shape} != reference {ref.shape}"
    nan_g, nan_r = np.isnan(got), np.isnan(ref)
    if (nan_g != nan_r).any():
        n = int((nan_g != nan_r).sum())
        at = tuple(int(x) for x in np.argwhere(nan_g != nan_r)[0])
        return math.inf, f"{n} NaN mismatches (kernel NaN: {int(nan_g.sum())}," \
                         f" reference NaN: {int(nan_r.sum())}; first at {at}:" \
                         f" kernel {got[at]}, reference {ref[at]})"
    inf_g, inf_r = np.isinf(got), np.isinf(ref)
    both = inf_g | inf_r
    if (both & (got != ref)).any():
        n = int((both & (got != ref)).sum())
        at = tuple(int(x) for x in np.argwhere(both & (got != ref))[0])
        return math.inf, f"{n} inf mismatches (first at {at}: kernel " \
                         f"{got[at]}, reference {ref[at]})"
    fin = ~(nan_r | inf_r)
    if not fin.any():
        return 0.0, ""
    denom = np.abs(ref[fin]).max()
    diff = np.abs(got[fin] - ref[fin]).max()
    if denom == 0:
        return (0.0 if diff == 0 else math.inf), "reference is all zero"
    return float(diff / denom), ""


def _run_attn(attn_run, spec, sizes, seed, outdir, inputs_dir=None):
    cmd = [attn_run, spec, "--sizes", sizes, "--seed", str(seed),
           "--write-outputs", outdir]
    if inputs_dir:
        cmd += ["--inputs", inputs_dir]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        return (f"attn-run exited {proc.returncode}: "
                f"{(proc.stderr or proc.stdout).strip()[-400:]}")
    return None


def _load_dir(d):
    return {fn[:-4]: np.load(os.path.join(d, fn))
            for fn in os.listdir(d) if fn.endswith(".npy")}


def run_case(attn_run, case, seed, tol, keep_root):
    name, example, sizes, ref_fn, extra = case[:5]
    perturb = case[5] if len(case) > 5 else None
    spec = os.path.join(EXAMPLES, example + ".mlir")
    tmp = None
    if keep_root:
        outdir = os.path.join(keep_root, name.replace("/", "_"))
        os.makedirs(outdir, exist_ok=True)
    else:
        tmp = tempfile.TemporaryDirectory(prefix="attn_ref_")
        outdir = tmp.name
    try:
        seeded = os.path.join(outdir, "seeded") if perturb else outdir
        err = _run_attn(attn_run, spec, sizes, seed, seeded)
        if err:
            return False, math.inf, [err]
        arrays = _load_dir(seeded)
        if perturb is not None:
            inputs = {k: v.copy() for k, v in arrays.items()
                      if k not in OUTPUT_NAMES}
            inputs = perturb(inputs)
            in_dir = os.path.join(outdir, "inputs")
            os.makedirs(in_dir, exist_ok=True)
            for k, v in inputs.items():
                np.save(os.path.join(in_dir, k + ".npy"), v)
            out2 = os.path.join(outdir, "perturbed")
            err = _run_attn(attn_run, spec, sizes, seed, out2, in_dir)
            if err:
                return False, math.inf, [err]
            # The kernel's arguments as it saw them (inputs may be converted).
            arrays = _load_dir(out2)
        if "output" not in arrays:
            return False, math.inf, ["attn-run wrote no output.npy"]
        ref = ref_fn(arrays)
        worst, msgs, ok = 0.0, [], True
        compared = 0
        for out_name in OUTPUT_NAMES:
            if out_name not in arrays:
                continue
            if out_name not in ref:
                ok = False
                msgs.append(f"{out_name}: written by the kernel but not "
                            f"modelled by the reference")
                continue
            err, note = rel_err(arrays[out_name], ref[out_name])
            compared += 1
            worst = max(worst, err)
            msgs.append(f"{out_name}={err:.3g}" + (f" ({note})" if note else ""))
            if not err <= tol:
                ok = False
        if extra is not None:
            extra_msgs = extra(arrays)
            if extra_msgs:
                ok = False
                msgs.extend(extra_msgs)
        return ok, worst, msgs
    finally:
        if tmp is not None:
            tmp.cleanup()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[1])
    ap.add_argument("attn_run", help="path to build/bin/attn-run")
    ap.add_argument("--only", action="append", default=[],
                    help="run only this case (repeatable); an example name "
                         "also selects its size variants NAME@...")
    ap.add_argument("--seed", type=int, default=3)
    ap.add_argument("--tol", type=float, default=1e-4)
    ap.add_argument("--keep", default="",
                    help="keep the .npy files under this directory")
    args = ap.parse_args()

    cases = CASES
    if args.only:
        cases = [c for c in CASES
                 if any(c[0] == o or c[0].split("@")[0] == o
                        for o in args.only)]
        if not cases and "selftest_masks" not in args.only:
            print(f"no case matches {args.only}", file=sys.stderr)
            return 2

    t_start = time.time()
    passed = failed = 0
    if not args.only or "selftest_masks" in args.only:
        msgs = selftest_masks()
        if msgs:
            failed += 1
            print("FAIL selftest_masks " + "; ".join(msgs))
        else:
            passed += 1
            print("PASS selftest_masks max_rel_err=0 (docs 3.4 worked examples)")
    for case in cases:
        t0 = time.time()
        try:
            ok, worst, msgs = run_case(args.attn_run, case, args.seed,
                                       args.tol, args.keep)
        except Exception as e:  # a crash in the reference is a failure
            ok, worst, msgs = False, math.inf, [f"{type(e).__name__}: {e}"]
        dt = time.time() - t0
        status = "PASS" if ok else "FAIL"
        passed += ok
        failed += not ok
        print(f"{status} {case[0]} max_rel_err={worst:.3g} "
              f"[{', '.join(msgs)}] ({dt:.2f}s)", flush=True)
    print(f"{passed} passed, {failed} failed")
    print(f"total time {time.time() - t_start:.1f}s", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
