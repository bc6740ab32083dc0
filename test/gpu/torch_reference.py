"""Float64 PyTorch reference for the attn dialect, on the GPU.

The same semantics as test/reference/attn_reference.py (the NumPy model),
written from docs/semantics.md again for PyTorch so that it reaches the
lengths the GPU kernels run (16387 and more): attention is evaluated a block
of query rows at a time, so nothing of size Hq x Nq x Nk is held at once,
and the recurrences step through the sequence on the device. It offers the
functions and masks test/reference/example_refs.py calls, so one
transcription of each example serves both models.

Layout (1.1): q [B,Hq,Nq,Dk], k [B,Hk,Nk,Dk], v [B,Hv,Nk,Dv];
kh(h) = h // (Hq // Hk), vh(h) = h // (Hq // Hv). Inputs may be NumPy
arrays or tensors; results are float64 tensors on `DEVICE`.
"""

import math

import numpy as np
import torch

DEVICE = "cuda" if torch.cuda.is_available() else "cpu"
F64 = torch.float64

# Query rows evaluated together by attention(): bounds the [B,H,rows,Nk]
# temporaries to about ROW_BUDGET elements.
ROW_BUDGET = 1 << 26


def tensor(x, dtype=F64):
    """x as a tensor of `dtype` on DEVICE (None stays None)."""
    if x is None:
        return None
    if isinstance(x, torch.Tensor):
        return x.to(device=DEVICE, dtype=dtype)
    return torch.as_tensor(np.asarray(x), device=DEVICE).to(dtype)


def _f64(x):
    return tensor(x, F64)


# Elementwise math for the transcribed regions (see example_refs.py).
tanh, exp, log1p, abs = torch.tanh, torch.exp, torch.log1p, torch.abs


def maximum(x, y):
    """np.maximum: either operand may be a Python number."""
    x, y = _f64(x), _f64(y)
    return torch.maximum(x, y)


def as_float64(x):
    return tensor(x, F64)


def as_int64(x):
    return tensor(x, torch.int64)


def f32(x):
    """The float64 value of an f32 attribute written as decimal text."""
    return float(np.float32(x))


def default_scale(dk):
    """1.4: default scale 1/sqrt(Dk)."""
    return 1.0 / math.sqrt(dk)


def head_map(hq, hx):
    """1.1: query head h reads head floor(h / (Hq / Hx))."""
    if hq % hx:
        raise ValueError(f"Hq={hq} is not a multiple of {hx}")
    return torch.arange(hq, device=DEVICE) // (hq // hx)


# ----------------------------------------------------------------------------
# Section 3: named masks, on broadcastable int64 index grids.
# ----------------------------------------------------------------------------

class MaskContext:
    """Run-time data a named mask reads: lengths and segment ids."""

    def __init__(self, nq, nk, qs=None, ks=None):
        self.nq, self.nk = int(nq), int(nk)
        self.qs = tensor(qs, torch.int64)
        self.ks = tensor(ks, torch.int64)


def _shift(align, ctx):
    """3.1: shift(bottom_right) = Nk - Nq, shift(top_left) = 0."""
    if align == "bottom_right":
        return ctx.nk - ctx.nq
    if align == "top_left":
        return 0
    raise ValueError(f"unknown alignment {align!r}")


class Mask:
    """A named mask: visible(b, h, i, j, ctx) on broadcast grids."""

    def __init__(self, fn, desc):
        self._fn, self.desc = fn, desc

    def __call__(self, b, h, i, j, ctx):
        out = self._fn(b, h, i, j, ctx)
        if not isinstance(out, torch.Tensor):
            out = torch.tensor(bool(out), device=DEVICE)
        return out.to(torch.bool)

    def __repr__(self):
        return f"Mask({self.desc})"


def causal(offset=0, align="bottom_right"):
    return Mask(lambda b, h, i, j, c: j <= i + _shift(align, c) + offset,
                "causal")


def sliding_window(left, right=0, align="bottom_right"):
    def fn(b, h, i, j, c):
        d = i + _shift(align, c)
        return (d - left <= j) & (j <= d + right)
    return Mask(fn, f"sliding_window<{left}, {right}>")


def sinks(count):
    return Mask(lambda b, h, i, j, c: j < count, f"sinks<{count}>")


def block_diagonal(size):
    return Mask(lambda b, h, i, j, c: (i // size) == (j // size),
                f"block_diagonal<{size}>")


def document():
    def fn(b, h, i, j, c):
        if c.qs is None or c.ks is None:
            raise ValueError("#attn.document needs segment ids")
        return c.qs[b, i] == c.ks[b, j]
    return Mask(fn, "document")


def prefix_lm(prefix):
    return Mask(lambda b, h, i, j, c: (j < prefix) | (j <= i + c.nk - c.nq),
                f"prefix_lm<{prefix}>")


def strided_shard(stride, block=1):
    return Mask(lambda b, h, i, j, c: ((j // block) % stride) == (h % stride),
                f"strided_shard<{stride}, {block}>")


def per_head(patterns, heads):
    patterns = list(patterns)
    heads = torch.as_tensor(heads, dtype=torch.int64, device=DEVICE)

    def fn(b, h, i, j, c):
        sel = heads[h]
        out = None
        for index, pattern in enumerate(patterns):
            term = (sel == index) & pattern(b, h, i, j, c)
            out = term if out is None else out | term
        return out
    return Mask(fn, "per_head")


def and_(*masks):
    def fn(b, h, i, j, c):
        out = masks[0](b, h, i, j, c)
        for m in masks[1:]:
            out = out & m(b, h, i, j, c)
        return out
    return Mask(fn, "and")


def or_(*masks):
    def fn(b, h, i, j, c):
        out = masks[0](b, h, i, j, c)
        for m in masks[1:]:
            out = out | m(b, h, i, j, c)
        return out
    return Mask(fn, "or")


def neighborhood(grid, kernel, dilation=None, causal_axes=()):
    """3.3: neighborhood mask on a row-major grid (1 to 3 axes)."""
    grid = [int(g) for g in grid]
    kernel = [int(x) for x in kernel]
    axes = len(grid)
    dilation = [1] * axes if dilation is None else [int(x) for x in dilation]
    causal_axes = set(int(a) for a in causal_axes)
    total = int(np.prod(grid))

    def coord(t, a):
        inner = int(np.prod(grid[a + 1:])) if a + 1 < axes else 1
        return (t // inner) % grid[a]

    def fn(b, h, i, j, c):
        if c.nq != total or c.nk != total:
            raise ValueError(f"neighborhood needs Nq = Nk = {total}")
        out = None
        for a in range(axes):
            G, K, D = grid[a], kernel[a], dilation[a]
            x, y = coord(i, a), coord(j, a)
            u, w = x // D, y // D
            ceil_len = -((-(G - x % D)) // D)   # ceil((G - x mod D) / D)
            if a in causal_axes:
                ok = (torch.clamp(u - K + 1, min=0) <= w) & (w <= u)
            else:
                start = torch.minimum(torch.clamp(u - K // 2, min=0),
                                      torch.clamp(ceil_len - K, min=0))
                ok = (start <= w) & (w < start + K)
            term = ((x % D) == (y % D)) & ok
            out = term if out is None else out & term
        return out
    return Mask(fn, "neighborhood")


def mask_keep(mask, qs=None, ks=None, mask_mod=None):
    """keep(b, h, i, j, nq, nk) = visible and mask_mod (2.2)."""

    def keep(b, h, i, j, nq, nk):
        out = torch.ones((), dtype=torch.bool, device=DEVICE)
        if mask is not None:
            out = mask(b, h, i, j, MaskContext(nq, nk, qs, ks))
        if mask_mod is not None:
            out = out & mask_mod(b, h, i, j).to(torch.bool)
        return out
    return keep


def _listed_blocks(counts, indices, key_blocks):
    """listed[b, h, qb, kb]: kb is among indices[b, h, qb, :counts[b, h, qb]]."""
    counts = tensor(counts, torch.int64)
    indices = tensor(indices, torch.int64)
    listed = torch.zeros(indices.shape[:3] + (key_blocks,), dtype=torch.bool,
                         device=DEVICE)
    for m in range(indices.shape[3]):
        b, h, qb = torch.nonzero(m < counts, as_tuple=True)
        listed[b, h, qb, indices[b, h, qb, m]] = True
    return listed


def block_mask_keep(keep, block_size, counts, indices, full_counts,
                    full_indices, nk):
    """2.2b: keep_ij = full(qb, kb) or (partial(qb, kb) and keep(i, j)), with
    qb = floor(i / BQ), kb = floor(j / BK); `keep` may be None (all kept)."""
    bq, bk = block_size
    key_blocks = -(-int(nk) // bk)
    partial = _listed_blocks(counts, indices, key_blocks)
    full = _listed_blocks(full_counts, full_indices, key_blocks)

    def block_keep(b, h, i, j, nq, nk):
        qb, kb = i // bq, j // bk
        inner = True if keep is None else keep(b, h, i, j, nq, nk)
        return full[b, h, qb, kb] | (partial[b, h, qb, kb] & inner)

    return block_keep


# ----------------------------------------------------------------------------
# Section 2: attn.attention
# ----------------------------------------------------------------------------

def _select_weighted_sum(w, sel, vv):
    """o = sum over selected j of w_ij v_j; unselected entries are dropped by
    selection (2.4), so a NaN or inf value of an unselected key never leaks."""
    w = torch.where(sel, w, 0.0)
    finite = torch.isfinite(vv)
    out = torch.matmul(w, torch.where(finite, vv, 0.0))
    bad_v = ~finite.all(dim=-1)                                # [B,H,Nk]
    if bad_v.any():
        rows = torch.argwhere((sel & bad_v[:, :, None, :]).any(dim=-1))
        for b, h, i in rows.tolist():
            js = torch.nonzero(sel[b, h, i]).flatten()
            out[b, h, i] = (w[b, h, i, js][:, None] * vv[b, h, js]).sum(0)
    return out


def attention(q, k, v, *, scale, keep=None, score_mod=None,
              normalization="softmax", sigmoid_bias=None, l1_map=None):
    """attn.attention (section 2) in float64, a block of query rows at a time.

    keep: None or keep(b, h, i, j, nq, nk) on index grids (see mask_keep).
    Returns (out [B,Hq,Nq,Dv], lse [B,Hq,Nq] or None).
    """
    q, k, v = _f64(q), _f64(k), _f64(v)
    B, Hq, Nq, _ = q.shape
    Nk, Dv = k.shape[2], v.shape[-1]
    kk = k[:, head_map(Hq, k.shape[1])]
    vv = v[:, head_map(Hq, v.shape[1])]
    out = torch.zeros((B, Hq, Nq, Dv), dtype=F64, device=DEVICE)
    lse = (torch.zeros((B, Hq, Nq), dtype=F64, device=DEVICE)
           if normalization == "softmax" else None)
    rows = max(1, ROW_BUDGET // max(1, B * Hq * Nk))
    arange = lambda n: torch.arange(n, device=DEVICE)  # noqa: E731
    b = arange(B).view(B, 1, 1, 1)
    h = arange(Hq).view(1, Hq, 1, 1)
    j = arange(Nk).view(1, 1, 1, Nk)
    for i0 in range(0, Nq, rows):
        i1 = min(Nq, i0 + rows)
        i = arange(Nq)[i0:i1].view(1, 1, -1, 1)
        full = (B, Hq, i1 - i0, Nk)
        x = float(scale) * torch.matmul(q[:, :, i0:i1], kk.transpose(-1, -2))
        s = x if score_mod is None else torch.broadcast_to(
            score_mod(x, b, h, i, j).to(F64), full)
        K = torch.ones(full, dtype=torch.bool, device=DEVICE)
        if keep is not None:
            K = torch.broadcast_to(keep(b, h, i, j, Nq, Nk), full)
        if normalization == "softmax":
            kept = K & (s != -math.inf)
            empty = ~kept.any(dim=-1)
            bad = (K & (torch.isnan(s) | (s == math.inf))).any(dim=-1)
            m = torch.where(kept, s, -math.inf).amax(dim=-1)
            m = torch.where(empty | bad, 0.0, m)
            p = torch.where(kept, torch.exp(s - m[..., None]), 0.0)
            l_safe = torch.where(empty | bad, 1.0, p.sum(dim=-1))
            o = _select_weighted_sum(p / l_safe[..., None], kept, vv)
            row_lse = m + torch.log(l_safe)
            o[empty] = 0.0
            row_lse[empty] = -math.inf
            o[bad] = math.nan
            row_lse[bad] = math.nan
        elif normalization == "sigmoid":
            p = 1.0 / (1.0 + torch.exp(-(s + float(sigmoid_bias))))
            o = _select_weighted_sum(p, K, vv)
        elif normalization == "l1":
            fw = torch.where(K, torch.broadcast_to(l1_map(s).to(F64), full),
                             0.0)
            d = fw.sum(dim=-1)
            nz = d != 0
            o = _select_weighted_sum(
                fw / torch.where(nz, d, 1.0)[..., None], K, vv)
            o[~nz] = 0.0
        elif normalization == "relu":
            o = _select_weighted_sum(torch.clamp(s, min=0.0), K, vv)
        else:
            raise ValueError(f"unknown normalization {normalization!r}")
        # 2.4: a row with no kept key is exactly 0 under every normalization.
        none_kept = ~K.any(dim=-1)
        o[none_kept] = 0.0
        out[:, :, i0:i1] = o
        if lse is not None:
            row_lse[none_kept] = -math.inf
            lse[:, :, i0:i1] = row_lse
    return out, lse


# ----------------------------------------------------------------------------
# Section 6: attn.linear_attention
# ----------------------------------------------------------------------------

def _softmax_last(z):
    e = torch.exp(z - z.amax(dim=-1, keepdim=True))
    return e / e.sum(dim=-1, keepdim=True)


def feature_map_apply(x, feature_map="identity", feature_fn=None,
                      weights=None):
    """6.2: phi(x) on the last axis of x ([B,H,N,Dk]) -> [B,H,N,F]."""
    x = _f64(x)
    if feature_fn is not None:
        return feature_fn(x).to(F64)
    if feature_map == "identity":
        return x.clone()
    if feature_map == "elu_plus_one":
        return torch.where(x > 0, x + 1.0, torch.exp(x))
    if feature_map == "relu":
        return torch.clamp(x, min=0.0)
    if feature_map == "taylor2":
        dk = x.shape[-1]
        outer = (x[..., :, None] * x[..., None, :]).reshape(
            x.shape[:-1] + (dk * dk,)) / math.sqrt(2.0)
        ones = torch.ones(x.shape[:-1] + (1,), dtype=F64, device=DEVICE)
        return torch.cat([ones, x, outer], dim=-1)
    if feature_map == "hedgehog":
        z = torch.matmul(x, _f64(weights)[None])
        return torch.cat([_softmax_last(z), _softmax_last(-z)], dim=-1)
    raise ValueError(f"unknown feature map {feature_map!r}")


def _features(q, k, scale, feature_map, feature_weights, feature_fn):
    """qf = scale * phi_Q(q), kf = phi_K(k[:, kh(h)]) per query head (6.2)."""
    Hq = q.shape[1]
    kk = k[:, head_map(Hq, k.shape[1])]
    wq = wk = None
    if feature_map == "hedgehog" and feature_fn is None:
        fw = _f64(feature_weights)
        wq, wk = fw[0], fw[1]
    qf = float(scale) * feature_map_apply(q, feature_map, feature_fn, wq)
    kf = feature_map_apply(kk, feature_map, feature_fn, wk)
    return qf, kf


def _gate_factors(gate_kind, g, B, H, N, F):
    """G_t for every t, as [N, B|1, H|1, F|1, 1] (6.4)."""
    one = torch.ones((N, 1, 1, 1, 1), dtype=F64, device=DEVICE)
    if gate_kind == "none":
        return one
    if gate_kind == "per_head":
        return torch.exp(g).view(1, 1, H, 1, 1).expand(N, 1, H, 1, 1)
    if gate_kind == "per_token":
        return torch.exp(g).permute(2, 0, 1).reshape(N, B, H, 1, 1)
    if gate_kind == "per_key":
        return torch.exp(g).permute(2, 0, 1, 3).reshape(N, B, H, F, 1)
    raise ValueError(f"unknown gate kind {gate_kind!r}")


def _normalize(n, d, normalization, norm_eps, dv):
    """6.7 on rows n [..., Dv] with denominators d [...]."""
    if normalization == "none":
        return n
    if normalization == "denominator":
        nz = d != 0
        return torch.where(nz[..., None], n / torch.where(nz, d, 1.0)[..., None],
                           0.0)
    if normalization == "rms_norm":
        return n / torch.sqrt((n * n).sum(dim=-1, keepdim=True) / dv
                              + float(norm_eps))
    raise ValueError(f"unknown normalization {normalization!r}")


def linear_attention(q, k, v, *, scale, causal, feature_map="identity",
                     feature_weights=None, feature_fn=None, gate_kind="none",
                     gate=None, update="additive", beta=None,
                     normalization="none", norm_eps=1e-6, initial_state=None):
    """attn.linear_attention (section 6) by the step-by-step recurrence.

    Returns (out [B,Hq,N,Dv], final_state [B,Hq,F,Dv(+1)]).
    """
    q, k, v = _f64(q), _f64(k), _f64(v)
    g, be = _f64(gate), _f64(beta)
    B, Hq, N, _ = q.shape
    Dv = v.shape[-1]
    vv = v[:, head_map(Hq, v.shape[1])]
    qf, kf = _features(q, k, scale, feature_map, feature_weights, feature_fn)
    F = qf.shape[-1]
    S = torch.zeros((B, Hq, F, Dv), dtype=F64, device=DEVICE)
    z = torch.zeros((B, Hq, F), dtype=F64, device=DEVICE)
    if initial_state is not None:
        s0 = _f64(initial_state)
        S = s0[..., :Dv].clone()
        if normalization == "denominator":
            z = s0[..., Dv].clone()
    numerators = torch.zeros((B, Hq, N, Dv), dtype=F64, device=DEVICE)
    denominators = torch.zeros((B, Hq, N), dtype=F64, device=DEVICE)
    if causal:
        G = _gate_factors(gate_kind, g, B, Hq, N, F)
        for t in range(N):
            Gt = G[t]
            kt, vt = kf[:, :, t], vv[:, :, t]
            if update == "additive":                                   # 6.4
                S = Gt * S + kt[..., :, None] * vt[..., None, :]
                z = Gt[..., 0] * z + kt
            elif update == "delta":                                    # 6.5
                aS = Gt * S
                pred = torch.matmul(kt[..., None, :], aS)[..., 0, :]
                S = aS + be[:, :, t, None, None] * (
                    kt[..., :, None] * (vt - pred)[..., None, :])
            else:
                raise ValueError(f"unknown update {update!r}")
            numerators[:, :, t] = torch.matmul(qf[:, :, t, None, :],
                                               S)[..., 0, :]
            denominators[:, :, t] = (qf[:, :, t] * z).sum(dim=-1)
    else:                                                              # 6.6
        S = S + torch.matmul(kf.transpose(-1, -2), vv)
        z = z + kf.sum(dim=2)
        numerators = torch.matmul(qf, S)
        denominators = torch.matmul(qf, z[..., None])[..., 0]
    out = _normalize(numerators, denominators, normalization, norm_eps, Dv)
    final = S                                                          # 6.8
    if normalization == "denominator":
        final = torch.cat([S, z[..., None]], dim=-1)
    return out, final


# ----------------------------------------------------------------------------
# Section 7: attn.hybrid
# ----------------------------------------------------------------------------

def _window_keep(window):
    """W_i = { j : max(0, i - window + 1) <= j <= i }."""
    return lambda b, h, i, j, nq, nk: (j <= i) & (j >= i - window + 1)


def hybrid(q, k, v, *, combine, window, weights=(1.0, 1.0), scale=None,
           linear_scale=1.0, feature_map="identity", feature_weights=None,
           feature_fn=None, gate_kind="none", gate=None, normalization=None,
           norm_eps=1e-6):
    """attn.hybrid (section 7). Returns out [B,Hq,N,Dv]."""
    q, k, v = _f64(q), _f64(k), _f64(v)
    B, Hq, N, Dk = q.shape
    Dv = v.shape[-1]
    w0, w1 = (float(x) for x in weights)
    if scale is None:
        scale = default_scale(Dk)

    if combine == "weighted_sum":                                      # 7.4
        softmax, _ = attention(q, k, v, scale=scale, keep=_window_keep(window))
        linear, _ = linear_attention(
            q, k, v, scale=linear_scale, causal=True, feature_map=feature_map,
            feature_weights=feature_weights, feature_fn=feature_fn,
            gate_kind=gate_kind, gate=gate, update="additive",
            normalization=normalization or "none", norm_eps=norm_eps)
        return w0 * softmax + w1 * linear
    if combine != "shared_denominator":
        raise ValueError(f"unknown combine {combine!r}")

    # 7.3, scaled by exp(-lse) with lse the log-sum-exp of the window's
    # scores (never empty): the softmax part's numerator and denominator
    # become w0 * softmax and w0, the linear part's w1 exp(-lse) [n, d].
    softmax, lse = attention(q, k, v, scale=scale, keep=_window_keep(window))
    vv = v[:, head_map(Hq, v.shape[1])]
    num = w0 * softmax
    den = torch.full_like(lse, w0)

    # Linear term over A_i = { j <= i - window }: qf_i^T Dec(t, i) S_t with
    # t = i - window, S_t the additive recurrence and Dec the product of the
    # gates of t+1 .. i.
    qf, kf = _features(q, k, linear_scale, feature_map, feature_weights,
                       feature_fn)
    F = qf.shape[-1]
    G = _gate_factors(gate_kind, _f64(gate), B, Hq, N, F)
    S = torch.zeros((B, Hq, F, Dv), dtype=F64, device=DEVICE)
    z = torch.zeros((B, Hq, F), dtype=F64, device=DEVICE)
    lnum = torch.zeros((B, Hq, N, Dv), dtype=F64, device=DEVICE)
    lden = torch.zeros((B, Hq, N), dtype=F64, device=DEVICE)
    if N > window:
        # decay[t] = prod_{u=t+1}^{t+window} G_u, for t = 0 .. N-window-1.
        decay = G[1:].unfold(0, window, 1).prod(dim=-1)
    for t in range(N - window):
        S = G[t] * S + kf[:, :, t, :, None] * vv[:, :, t, None, :]
        z = G[t][..., 0] * z + kf[:, :, t]
        i = t + window
        qd = qf[:, :, i, :, None] * decay[t]
        lnum[:, :, i] = (qd * S).sum(dim=2)
        lden[:, :, i] = (qd[..., 0] * z).sum(dim=-1)
    scale_lin = torch.exp(-lse)
    num = num + w1 * scale_lin[..., None] * lnum
    den = den + w1 * scale_lin * lden
    nz = den != 0
    return torch.where(nz[..., None], num / torch.where(nz, den, 1.0)[..., None],
                       0.0)
