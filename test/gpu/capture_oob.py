"""Out-of-range indices into captured tensors, through the Python package.

docs/semantics.md 1.6 and 2.5: every index a region passes to
tensor.extract on a captured tensor is clamped into [0, d - 1] of its own
dimension, so t[i + 10**6] reads t[d - 1] and t[h - 1000, j * 10**6] reads
t[0, 0] for j = 0 and t[0, d1 - 1] otherwise (per dimension, not on the
flattened offset). run_gpu_suite.sh's `sanitizer` step runs this under

    compute-sanitizer --tool memcheck python3 test/gpu/capture_oob.py

and needs "ERROR SUMMARY: 0 errors" and exit status 0: no read outside a
captured tensor, and every output equal to the clamped reading's reference.

Each check runs at D = 64 (the tensor-core kernel) and D = 40 (the SIMT
kernel), bf16, B = 1, H = 2, N = 77, against a float64 NumPy reference.
`--backend cpu` runs the same checks on the CPU backend (NumPy, f32).
Each call is then repeated with index checks on (ATTN_CHECK_INDICES=1),
which must raise IndexError after the launch.
"""

import argparse
import math
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "python-bindings"))
import attn  # noqa: E402

BIG = 10 ** 6


def reference(q, k, v, bias, keep, want_lse):
    """softmax(q k^T / sqrt(D) + bias) v over `keep`, float64."""
    q, k, v = (x.astype(np.float64) for x in (q, k, v))
    s = q @ np.swapaxes(k, -1, -2) / math.sqrt(q.shape[-1]) + bias
    s = np.where(keep, s, -np.inf)
    m = s.max(axis=-1, keepdims=True)
    p = np.exp(s - m)
    out = (p / p.sum(axis=-1, keepdims=True)) @ v
    lse = (m[..., 0] + np.log(p.sum(axis=-1))) if want_lse else None
    return out, lse


def rel_err(got, ref):
    got = np.asarray(got, np.float64)
    if not np.isfinite(got).all():
        return math.inf
    return float(np.abs(got - ref).max() / np.abs(ref).max())


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backend", choices=("cuda", "cpu"), default="cuda")
    args = parser.parse_args()
    cuda = args.backend == "cuda"
    if cuda:
        import torch
        dev = "cuda"
    rng = np.random.default_rng(11)
    N, H = 77, 2
    t_np = np.array([0.5, -1.0, 2.0, 3.0], np.float32)
    w_np = np.arange(15, dtype=np.float32).reshape(3, 5) * 0.25 - 1.0
    u_np = np.array([0.0, 1.0, 1.0, 1.0], np.float32)
    if cuda:
        # PyTorch tensors are indexed directly (t[i + 10**6], as a user
        # writes it); the 2-D one goes through attn.capture, which takes a
        # tuple of traced indices on every array type.
        t, w, u = (torch.from_numpy(x).to(dev) for x in (t_np, w_np, u_np))
        w = attn.capture(w)
    else:
        t, w, u = (attn.capture(x) for x in (t_np, w_np, u_np))

    i = np.arange(N)[:, None]
    j = np.arange(N)[None, :]
    everything = np.ones((N, N), bool)
    # (name, score_mod, mask_mod, return_lse, reference bias, reference keep)
    checks = [
        ("score_mod t[i + 10**6] == t[3] (lse)",
         lambda s, b, hh, ii, jj: s + t[ii + BIG], None, True,
         np.float64(t_np[3]), everything),
        ("score_mod w[h - 1000, j * 10**6] per dim",
         lambda s, b, hh, ii, jj: s + t[ii + BIG] + 2.0 * w[hh - 1000,
                                                             jj * BIG],
         None, True,
         t_np[3] + 2.0 * np.where(j == 0, w_np[0, 0], w_np[0, 4]),
         everything),
        ("mask_mod u[j - 10**6] == u[0], u[i + 10**6] == u[3]",
         None, lambda b, hh, ii, jj: ((jj <= ii) | (u[jj - BIG] > 0.5))
         & (u[ii + BIG] > 0.5), False, np.float64(0.0), j <= i),
    ]

    failures = 0
    for dim in (64, 40):
        q_np, k_np, v_np = (rng.standard_normal((1, H, N, dim)).astype(
            np.float32) for _ in range(3))
        if cuda:
            q, k, v = (torch.from_numpy(x).to(dev, torch.bfloat16)
                       for x in (q_np, k_np, v_np))
            # The reference sees the inputs as the kernel does.
            q_np, k_np, v_np = (x.float().cpu().numpy() for x in (q, k, v))
            tolerance = 1e-2
        else:
            q, k, v = q_np, k_np, v_np
            tolerance = 1e-4
        for name, score_mod, mask_mod, want_lse, bias, keep in checks:
            result = attn.attention(q, k, v, score_mod=score_mod,
                                    mask_mod=mask_mod, return_lse=want_lse)
            out, lse = result if want_lse else (result, None)
            if cuda:
                torch.cuda.synchronize()
                out = out.float().cpu().numpy()
                lse = None if lse is None else lse.cpu().numpy()
            ref_out, ref_lse = reference(q_np, k_np, v_np, bias, keep,
                                         want_lse)
            errors = [rel_err(out, ref_out)]
            if want_lse:
                errors.append(rel_err(lse, ref_lse))
            ok = all(e <= tolerance for e in errors)
            failures += not ok
            print(f"capture_oob: D={dim} {name}: max_rel_err="
                  f"{', '.join(f'{e:.2e}' for e in errors)} "
                  f"{'ok' if ok else 'FAIL'}", flush=True)
            # The same call compiled with index checks must raise, naming
            # the first clamped read (ATTN_CHECK_INDICES, docs/semantics.md
            # 2.5).
            os.environ["ATTN_CHECK_INDICES"] = "1"
            try:
                attn.attention(q, k, v, score_mod=score_mod,
                               mask_mod=mask_mod, return_lse=want_lse)
                message = None
            except IndexError as error:
                message = str(error)
            finally:
                del os.environ["ATTN_CHECK_INDICES"]
            ok = message is not None and "out of range" in message
            failures += not ok
            print(f"capture_oob: D={dim} {name}, check_indices: "
                  f"{message.split('.')[0] if message else 'no error'} "
                  f"{'ok' if ok else 'FAIL'}", flush=True)
    print(f"capture_oob: {failures} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
