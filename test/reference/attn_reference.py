"""Float64 NumPy reference for the attn dialect, written from docs/semantics.md.

This module is deliberately independent of the compiler's own lowerings: every
formula below is taken from docs/semantics.md (section numbers are given in
the comments).  Nothing here is tuned for speed; it evaluates the formulas of
the document directly in float64.

Layout (1.1): q [B,Hq,Nq,Dk], k [B,Hk,Nk,Dk], v [B,Hv,Nk,Dv];
kh(h) = h // (Hq // Hk), vh(h) = h // (Hq // Hv).

Public API
----------
attention(q, k, v, *, scale, keep, score_mod=None, normalization='softmax',
          sigmoid_bias=None, l1_map=None)                    -> (out, lse)
linear_attention(q, k, v, *, scale, causal, feature_map, ...) -> (out, final_state)
hybrid(q, k, v, *, combine, window, weights, scale, linear_scale, ...) -> out

Named masks (section 3) are built by causal(), sliding_window(), sinks(),
block_diagonal(), document(), prefix_lm(), strided_shard(), per_head(),
and_(), or_() and neighborhood().  Each returns a Mask: a callable
``mask(b, h, i, j, ctx)`` on broadcastable integer index grids, where ctx is a
MaskContext holding the run-time lengths and segment ids.  Use
``mask.array(B, Hq, Nq, Nk, qs=None, ks=None)`` for a dense boolean array, or
``mask_keep(mask, qs=None, ks=None)`` to get a ``keep(b, h, i, j)`` callable
for attention().
"""

import math

import numpy as np

__all__ = [
    "default_scale", "f32", "head_map", "index_grids",
    "MaskContext", "Mask", "causal", "sliding_window", "sinks",
    "block_diagonal", "document", "prefix_lm", "strided_shard", "per_head",
    "and_", "or_", "neighborhood", "mask_keep", "block_mask_keep",
    "attention", "feature_map_apply", "linear_attention", "hybrid",
    "tanh", "exp", "log1p", "abs", "maximum", "as_float64", "as_int64",
]


# ----------------------------------------------------------------------------
# Helpers
# ----------------------------------------------------------------------------

def f32(x):
    """The float64 value of an f32 attribute written as decimal text."""
    return float(np.float32(x))


def default_scale(dk):
    """1.4: default scale 1/sqrt(Dk) (f64 value; the code uses f32)."""
    return 1.0 / math.sqrt(dk)


def head_map(hq, hx):
    """1.1: query head h reads head floor(h / (Hq / Hx))."""
    if hq % hx:
        raise ValueError(f"Hq={hq} is not a multiple of {hx}")
    return np.arange(hq) // (hq // hx)


def index_grids(B, H, Nq, Nk):
    """Broadcastable int64 index grids b, h, i, j of shape [B,H,Nq,Nk]."""
    b = np.arange(B, dtype=np.int64).reshape(B, 1, 1, 1)
    h = np.arange(H, dtype=np.int64).reshape(1, H, 1, 1)
    i = np.arange(Nq, dtype=np.int64).reshape(1, 1, Nq, 1)
    j = np.arange(Nk, dtype=np.int64).reshape(1, 1, 1, Nk)
    return b, h, i, j


def _f64(x):
    return None if x is None else np.asarray(x, dtype=np.float64)


# Elementwise math the transcribed regions use (test/reference/example_refs.py
# calls them through the reference module, so that the same transcription
# runs on the NumPy and on the PyTorch model).
tanh, exp, log1p, abs, maximum = np.tanh, np.exp, np.log1p, np.abs, np.maximum


def as_float64(x):
    return np.asarray(x).astype(np.float64)


def as_int64(x):
    return np.asarray(x).astype(np.int64)


# ----------------------------------------------------------------------------
# Section 3: named masks
# ----------------------------------------------------------------------------

class MaskContext:
    """Run-time data a named mask reads: lengths and segment ids."""

    def __init__(self, nq, nk, qs=None, ks=None):
        self.nq = int(nq)
        self.nk = int(nk)
        self.qs = None if qs is None else np.asarray(qs).astype(np.int64)
        self.ks = None if ks is None else np.asarray(ks).astype(np.int64)


def _shift(align, ctx):
    """3.1: shift(bottom_right) = Nk - Nq, shift(top_left) = 0."""
    if align == "bottom_right":
        return ctx.nk - ctx.nq
    if align == "top_left":
        return 0
    raise ValueError(f"unknown alignment {align!r}")


class Mask:
    """A named mask: visible(b, h, i, j) evaluated on broadcast grids."""

    def __init__(self, fn, desc):
        self._fn = fn
        self.desc = desc

    def __call__(self, b, h, i, j, ctx):
        return np.asarray(self._fn(b, h, i, j, ctx), dtype=bool)

    def array(self, B, H, Nq, Nk, qs=None, ks=None):
        ctx = MaskContext(Nq, Nk, qs, ks)
        b, h, i, j = index_grids(B, H, Nq, Nk)
        return np.broadcast_to(self(b, h, i, j, ctx), (B, H, Nq, Nk)).copy()

    def __repr__(self):
        return f"Mask({self.desc})"


def causal(offset=0, align="bottom_right"):
    """visible = j <= i + shift(a) + c."""
    return Mask(lambda b, h, i, j, c: j <= i + _shift(align, c) + offset,
                f"causal<offset={offset}, align={align}>")


def sliding_window(left, right=0, align="bottom_right"):
    """visible = i + shift(a) - L <= j <= i + shift(a) + R."""
    if left < 0 or right < 0:
        raise ValueError("sliding_window needs left, right >= 0")

    def fn(b, h, i, j, c):
        d = i + _shift(align, c)
        return (d - left <= j) & (j <= d + right)

    return Mask(fn, f"sliding_window<left={left}, right={right}, align={align}>")


def sinks(count):
    """visible = j < S."""
    if count <= 0:
        raise ValueError("sinks needs count > 0")
    return Mask(lambda b, h, i, j, c: j < count, f"sinks<{count}>")


def block_diagonal(size):
    """visible = floor(i / Z) == floor(j / Z)."""
    if size <= 0:
        raise ValueError("block_diagonal needs size > 0")
    return Mask(lambda b, h, i, j, c: (i // size) == (j // size),
                f"block_diagonal<{size}>")


def document():
    """visible = qs[b, i] == ks[b, j] (signed integer compare)."""

    def fn(b, h, i, j, c):
        if c.qs is None or c.ks is None:
            raise ValueError("#attn.document needs segment ids")
        return c.qs[b, i] == c.ks[b, j]

    return Mask(fn, "document")


def prefix_lm(prefix):
    """visible = j < P or j <= i + Nk - Nq."""
    if prefix <= 0:
        raise ValueError("prefix_lm needs prefix > 0")
    return Mask(lambda b, h, i, j, c: (j < prefix) | (j <= i + c.nk - c.nq),
                f"prefix_lm<{prefix}>")


def strided_shard(stride, block=1):
    """visible = floor(j / K) mod S == h mod S."""
    if stride <= 0 or block <= 0:
        raise ValueError("strided_shard needs stride, block > 0")
    return Mask(lambda b, h, i, j, c: ((j // block) % stride) == (h % stride),
                f"strided_shard<stride={stride}, block={block}>")


def per_head(patterns, heads):
    """visible(b, h, i, j) = P[a_h].visible(b, h, i, j)."""
    patterns = list(patterns)
    heads = np.asarray(heads, dtype=np.int64)
    if not patterns or heads.size == 0:
        raise ValueError("per_head needs patterns and heads")
    if heads.min() < 0 or heads.max() >= len(patterns):
        raise ValueError("per_head index outside the pattern list")

    def fn(b, h, i, j, c):
        if np.max(h) >= heads.size:
            raise ValueError("per_head: fewer heads entries than query heads")
        sel = heads[h]
        out = np.zeros(np.broadcast_shapes(np.shape(b), np.shape(h),
                                           np.shape(i), np.shape(j)), bool)
        for idx, p in enumerate(patterns):
            out |= (sel == idx) & p(b, h, i, j, c)
        return out

    return Mask(fn, f"per_head<{patterns}, heads={heads.tolist()}>")


def and_(*masks):
    """Visible when every operand is visible."""
    if not masks:
        raise ValueError("and needs at least one operand")

    def fn(b, h, i, j, c):
        out = masks[0](b, h, i, j, c)
        for m in masks[1:]:
            out = out & m(b, h, i, j, c)
        return out

    return Mask(fn, f"and<{list(masks)}>")


def or_(*masks):
    """Visible when some operand is visible."""
    if not masks:
        raise ValueError("or needs at least one operand")

    def fn(b, h, i, j, c):
        out = masks[0](b, h, i, j, c)
        for m in masks[1:]:
            out = out | m(b, h, i, j, c)
        return out

    return Mask(fn, f"or<{list(masks)}>")


def neighborhood(grid, kernel, dilation=None, causal_axes=()):
    """3.3: neighborhood mask on a row-major grid (1 to 3 axes)."""
    grid = [int(g) for g in grid]
    kernel = [int(x) for x in kernel]
    n_axes = len(grid)
    dilation = [1] * n_axes if dilation is None else [int(x) for x in dilation]
    causal_axes = set(int(a) for a in causal_axes)
    if not 1 <= n_axes <= 3 or len(kernel) != n_axes or len(dilation) != n_axes:
        raise ValueError("neighborhood: bad number of axes")
    for g, kk, d in zip(grid, kernel, dilation):
        if g <= 0 or kk <= 0 or d <= 0 or kk * d > g:
            raise ValueError("neighborhood: bad grid/kernel/dilation")
    if any(a < 0 or a >= n_axes for a in causal_axes):
        raise ValueError("neighborhood: causal axis out of range")
    total = int(np.prod(grid))

    def coord(t, a):
        # Row-major, last axis fastest: x_a = floor(t / prod(G[a+1:])) mod G_a.
        inner = int(np.prod(grid[a + 1:])) if a + 1 < n_axes else 1
        return (t // inner) % grid[a]

    def fn(b, h, i, j, c):
        if c.nq != total or c.nk != total:
            raise ValueError(f"neighborhood needs Nq = Nk = {total}, "
                             f"got Nq={c.nq}, Nk={c.nk}")
        out = np.ones(np.broadcast_shapes(np.shape(i), np.shape(j)), bool)
        for a in range(n_axes):
            G, K, D = grid[a], kernel[a], dilation[a]
            x = coord(i, a)
            y = coord(j, a)
            same_group = (x % D) == (y % D)
            u = x // D
            w = y // D
            L = -((-(G - x % D)) // D)          # ceil((G - x mod D) / D)
            if a in causal_axes:
                ok = (np.maximum(u - K + 1, 0) <= w) & (w <= u)
            else:
                s = np.clip(u - K // 2, 0, np.maximum(L - K, 0))
                ok = (s <= w) & (w < s + K)
            out = out & same_group & ok
        return out

    return Mask(fn, f"neighborhood<grid={grid}, kernel={kernel}, "
                    f"dilation={dilation}, causal_axes={sorted(causal_axes)}>")


def mask_keep(mask, qs=None, ks=None, mask_mod=None):
    """keep(b, h, i, j) = visible(b, h, i, j) and mask_mod(b, h, i, j) (2.2).

    `mask` may be None (every key visible); `mask_mod` is an optional
    vectorized callable mask_mod(b, h, i, j) -> bool.  The run-time lengths
    are taken from the index grids passed in by attention().
    """

    def keep(b, h, i, j):
        nq = int(np.max(i)) + 1
        nk = int(np.max(j)) + 1
        out = True
        if mask is not None:
            out = mask(b, h, i, j, MaskContext(nq, nk, qs, ks))
        if mask_mod is not None:
            out = out & np.asarray(mask_mod(b, h, i, j), dtype=bool)
        return out

    return keep


def _listed_blocks(counts, indices, key_blocks):
    """listed[b, h, qb, kb]: kb is among indices[b, h, qb, :counts[b, h, qb]]."""
    counts = np.asarray(counts, np.int64)
    indices = np.asarray(indices, np.int64)
    listed = np.zeros(indices.shape[:3] + (key_blocks,), bool)
    for m in range(indices.shape[3]):
        b, h, qb = np.nonzero(m < counts)
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

    def block_keep(b, h, i, j):
        qb, kb = i // bq, j // bk
        inner = True if keep is None else keep(b, h, i, j)
        return full[b, h, qb, kb] | (partial[b, h, qb, kb] & inner)

    return block_keep


# ----------------------------------------------------------------------------
# Section 2: attn.attention
# ----------------------------------------------------------------------------

def _select_weighted_sum(w, sel, vv):
    """o[b,h,i,:] = sum_{j: sel[b,h,i,j]} w[b,h,i,j] * vv[b,h,j,:].

    Unselected entries are dropped by selection (2.4), so NaN/inf in w or in
    v at unselected (i, j) never leaks into the row.
    """
    w = np.where(sel, w, 0.0)
    bad_v = ~np.isfinite(vv).all(axis=-1)                    # [B,H,Nk]
    v_clean = np.where(np.isfinite(vv), vv, 0.0)
    out = np.matmul(w, v_clean)
    if bad_v.any():
        # Rows that select a key with a non-finite value: recompute exactly.
        rows = np.argwhere((sel & bad_v[:, :, None, :]).any(axis=-1))
        for b, h, i in rows:
            js = np.nonzero(sel[b, h, i])[0]
            out[b, h, i] = (w[b, h, i, js][:, None] * vv[b, h, js]).sum(axis=0)
    return out


def attention(q, k, v, *, scale, keep=None, score_mod=None,
              normalization="softmax", sigmoid_bias=None, l1_map=None):
    """attn.attention (section 2) in float64.

    keep: None (all kept), a boolean array broadcastable to [B,Hq,Nq,Nk], or a
          callable keep(b, h, i, j) on broadcast index grids (see mask_keep).
    score_mod: callable score_mod(x, b, h, i, j) -> s, vectorized; x is the
          scaled score array [B,Hq,Nq,Nk].
    l1_map: callable l1_map(s) -> f, vectorized (normalization 'l1').
    Returns (out [B,Hq,Nq,Dv], lse [B,Hq,Nq] or None).
    """
    q, k, v = _f64(q), _f64(k), _f64(v)
    B, Hq, Nq, Dk = q.shape
    _, Hk, Nk, Dk2 = k.shape
    _, Hv, Nk2, Dv = v.shape
    if Dk != Dk2 or Nk != Nk2 or k.shape[0] != B or v.shape[0] != B:
        raise ValueError("attention: inconsistent shapes")
    kk = k[:, head_map(Hq, Hk)]
    vv = v[:, head_map(Hq, Hv)]
    b, h, i, j = index_grids(B, Hq, Nq, Nk)
    full = (B, Hq, Nq, Nk)

    with np.errstate(all="ignore"):
        x = float(scale) * np.matmul(q, np.swapaxes(kk, -1, -2))
        s = x if score_mod is None else np.broadcast_to(
            np.asarray(score_mod(x, b, h, i, j), dtype=np.float64), full)
        if keep is None:
            K = np.ones(full, bool)
        elif callable(keep):
            K = np.broadcast_to(np.asarray(keep(b, h, i, j), bool), full)
        else:
            K = np.broadcast_to(np.asarray(keep, bool), full)

        lse = None
        if normalization == "softmax":
            Kp = K & (s != -np.inf)                          # K'_i
            empty = ~Kp.any(axis=-1)
            bad = (K & (np.isnan(s) | (s == np.inf))).any(axis=-1)
            m = np.where(Kp, s, -np.inf).max(axis=-1)
            m = np.where(empty | bad, 0.0, m)
            p = np.where(Kp, np.exp(s - m[..., None]), 0.0)
            l = p.sum(axis=-1)
            l_safe = np.where(empty | bad, 1.0, l)
            out = _select_weighted_sum(p / l_safe[..., None], Kp, vv)
            lse = m + np.log(l_safe)
            out[empty] = 0.0
            lse[empty] = -np.inf
            out[bad] = np.nan
            lse[bad] = np.nan
        elif normalization == "sigmoid":
            if sigmoid_bias is None:
                raise ValueError("sigmoid needs sigmoid_bias")
            p = 1.0 / (1.0 + np.exp(-(s + float(sigmoid_bias))))
            out = _select_weighted_sum(p, K, vv)
        elif normalization == "l1":
            if l1_map is None:
                raise ValueError("l1 needs l1_map")
            f = np.broadcast_to(np.asarray(l1_map(s), dtype=np.float64), full)
            f = np.where(K, f, 0.0)
            d = f.sum(axis=-1)
            nz = d != 0
            d_safe = np.where(nz, d, 1.0)
            out = _select_weighted_sum(f / d_safe[..., None], K, vv)
            out[~nz] = 0.0
        elif normalization == "relu":
            p = np.maximum(s, 0.0)                  # NaN propagates
            out = _select_weighted_sum(p, K, vv)
        else:
            raise ValueError(f"unknown normalization {normalization!r}")

        # 2.4: a row with no kept key is exactly 0 under every normalization.
        out[~K.any(axis=-1)] = 0.0
        if lse is not None:
            lse[~K.any(axis=-1)] = -np.inf
    return out, lse


# ----------------------------------------------------------------------------
# Section 6: attn.linear_attention
# ----------------------------------------------------------------------------

def _softmax_last(z):
    zmax = z.max(axis=-1, keepdims=True)
    e = np.exp(z - zmax)
    return e / e.sum(axis=-1, keepdims=True)


def feature_map_apply(x, feature_map="identity", feature_fn=None, weights=None):
    """6.2: phi(x) on the last axis of x ([B,H,N,Dk]) -> [B,H,N,F].

    weights: [H, Dk, M] hedgehog matrices, one per (query) head, already
    selected for queries (feature_weights[0]) or keys (feature_weights[1]).
    """
    x = _f64(x)
    with np.errstate(all="ignore"):
        if feature_fn is not None:
            return np.asarray(feature_fn(x), dtype=np.float64)
        if feature_map == "identity":
            return x.copy()
        if feature_map == "elu_plus_one":
            return np.where(x > 0, x + 1.0, np.exp(x))
        if feature_map == "relu":
            return np.maximum(x, 0.0)
        if feature_map == "taylor2":
            dk = x.shape[-1]
            outer = (x[..., :, None] * x[..., None, :]).reshape(
                x.shape[:-1] + (dk * dk,)) / math.sqrt(2.0)
            ones = np.ones(x.shape[:-1] + (1,))
            return np.concatenate([ones, x, outer], axis=-1)
        if feature_map == "hedgehog":
            if weights is None:
                raise ValueError("hedgehog needs feature_weights")
            z = np.matmul(x, _f64(weights)[None])
            return np.concatenate([_softmax_last(z), _softmax_last(-z)], axis=-1)
    raise ValueError(f"unknown feature map {feature_map!r}")


def _features(q, k, scale, feature_map, feature_weights, feature_fn):
    """qf = scale * phi_Q(q), kf = phi_K(k[:, kh(h)]) per query head (6.2)."""
    B, Hq, N, Dk = q.shape
    kk = k[:, head_map(Hq, k.shape[1])]
    wq = wk = None
    if feature_map == "hedgehog" and feature_fn is None:
        fw = _f64(feature_weights)
        wq, wk = fw[0], fw[1]            # indexed by the query head h
    qf = float(scale) * feature_map_apply(q, feature_map, feature_fn, wq)
    kf = feature_map_apply(kk, feature_map, feature_fn, wk)
    return qf, kf


def _gate_factor(gate_kind, g, t, B, H, F):
    """G_t as an array broadcastable to [B,H,F,1] (6.4)."""
    if gate_kind == "none":
        return np.ones((1, 1, 1, 1))
    if gate_kind == "per_head":
        return np.exp(g).reshape(1, H, 1, 1)
    if gate_kind == "per_token":
        return np.exp(g[:, :, t]).reshape(B, H, 1, 1)
    if gate_kind == "per_key":
        return np.exp(g[:, :, t, :]).reshape(B, H, F, 1)
    raise ValueError(f"unknown gate kind {gate_kind!r}")


def _normalize(n, d, normalization, norm_eps, dv):
    """6.7 on one row n [B,H,Dv] with denominator d [B,H]."""
    if normalization == "none":
        return n
    if normalization == "denominator":
        nz = d != 0
        return np.where(nz[..., None], n / np.where(nz, d, 1.0)[..., None], 0.0)
    if normalization == "rms_norm":
        return n / np.sqrt((n * n).sum(axis=-1, keepdims=True) / dv
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
    g = _f64(gate)
    be = _f64(beta)
    B, Hq, N, Dk = q.shape
    Dv = v.shape[-1]
    if k.shape[2] != N or v.shape[2] != N:
        raise ValueError("linear_attention needs Nq = Nk")
    vv = v[:, head_map(Hq, v.shape[1])]
    if gate_kind != "none" and g is None:
        raise ValueError("gate kind without gate values")
    if update == "delta" and (not causal or be is None or gate_kind == "per_key"
                              or normalization == "denominator"):
        raise ValueError("invalid delta-rule configuration")

    with np.errstate(all="ignore"):
        qf, kf = _features(q, k, scale, feature_map, feature_weights,
                           feature_fn)
        F = qf.shape[-1]

        # 6.3 initial state.
        S = np.zeros((B, Hq, F, Dv))
        z = np.zeros((B, Hq, F))
        if initial_state is not None:
            s0 = _f64(initial_state)
            S = s0[..., :Dv].copy()
            if normalization == "denominator":
                z = s0[..., Dv].copy()

        out = np.zeros((B, Hq, N, Dv))
        if causal:
            for t in range(N):
                G = _gate_factor(gate_kind, g, t, B, Hq, F)
                if update == "additive":                               # 6.4
                    S = G * S + kf[:, :, t, :, None] * vv[:, :, t, None, :]
                    z = G[..., 0] * z + kf[:, :, t, :]
                elif update == "delta":                                # 6.5
                    aS = G * S
                    pred = np.matmul(kf[:, :, t, None, :], aS)[:, :, 0]
                    S = aS + be[:, :, t, None, None] * (
                        kf[:, :, t, :, None] * (vv[:, :, t] - pred)[:, :, None, :])
                else:
                    raise ValueError(f"unknown update {update!r}")
                n = np.matmul(qf[:, :, t, None, :], S)[:, :, 0]
                d = (qf[:, :, t] * z).sum(axis=-1)
                out[:, :, t] = _normalize(n, d, normalization, norm_eps, Dv)
        else:                                                          # 6.6
            if gate_kind != "none" or update != "additive":
                raise ValueError("non-causal takes no gate and no delta rule")
            S = S + np.matmul(np.swapaxes(kf, -1, -2), vv)
            z = z + kf.sum(axis=2)
            for t in range(N):
                n = np.matmul(qf[:, :, t, None, :], S)[:, :, 0]
                d = (qf[:, :, t] * z).sum(axis=-1)
                out[:, :, t] = _normalize(n, d, normalization, norm_eps, Dv)

        # 6.8 final state.
        final = S
        if normalization == "denominator":
            final = np.concatenate([S, z[..., None]], axis=-1)
    return out, final


# ----------------------------------------------------------------------------
# Section 7: attn.hybrid
# ----------------------------------------------------------------------------

def hybrid(q, k, v, *, combine, window, weights=(1.0, 1.0), scale=None,
           linear_scale=1.0, feature_map="identity", feature_weights=None,
           feature_fn=None, gate_kind="none", gate=None, normalization=None,
           norm_eps=1e-6):
    """attn.hybrid (section 7). Returns out [B,Hq,N,Dv]."""
    q, k, v = _f64(q), _f64(k), _f64(v)
    g = _f64(gate)
    B, Hq, N, Dk = q.shape
    Dv = v.shape[-1]
    w0, w1 = (float(x) for x in weights)
    if scale is None:
        scale = default_scale(Dk)
    if window <= 0:
        raise ValueError("window must be positive")
    # W_i = { j : max(0, i - window + 1) <= j <= i }
    ii = np.arange(N)[:, None]
    jj = np.arange(N)[None, :]
    in_window = (jj <= ii) & (jj >= ii - window + 1)

    if combine == "weighted_sum":                                      # 7.4
        sm, _ = attention(q, k, v, scale=scale, keep=in_window[None, None])
        lin, _ = linear_attention(
            q, k, v, scale=linear_scale, causal=True, feature_map=feature_map,
            feature_weights=feature_weights, feature_fn=feature_fn,
            gate_kind=gate_kind, gate=gate, update="additive",
            normalization=normalization or "none", norm_eps=norm_eps)
        return w0 * sm + w1 * lin

    if combine != "shared_denominator":
        raise ValueError(f"unknown combine {combine!r}")
    if normalization not in (None, "none"):
        raise ValueError("shared_denominator takes no normalization")

    with np.errstate(all="ignore"):                                    # 7.3
        kk = k[:, head_map(Hq, k.shape[1])]
        vv = v[:, head_map(Hq, v.shape[1])]
        s = float(scale) * np.matmul(q, np.swapaxes(kk, -1, -2))
        sw = np.where(in_window, s, -np.inf)
        m = sw.max(axis=-1)                                  # window never empty
        e = np.where(in_window, np.exp(sw - m[..., None]), 0.0)
        num = w0 * np.matmul(e, vv)
        den = w0 * e.sum(axis=-1)

        # Linear term over A_i = { j <= i - window }:
        #   sum_{j in A_i} a_ij v_j = qf_i^T Dec(i-window, i) S_{i-window},
        # with S_t the causal additive recurrence of 6.4 and Dec(a, i) the
        # product of the gates of a+1 .. i.
        qf, kf = _features(q, k, linear_scale, feature_map, feature_weights,
                           feature_fn)
        F = qf.shape[-1]
        S = np.zeros((B, Hq, F, Dv))
        z = np.zeros((B, Hq, F))
        lnum = np.zeros((B, Hq, N, Dv))
        lden = np.zeros((B, Hq, N))
        for t in range(N):
            G = _gate_factor(gate_kind, g, t, B, Hq, F)
            S = G * S + kf[:, :, t, :, None] * vv[:, :, t, None, :]
            z = G[..., 0] * z + kf[:, :, t, :]
            i = t + window
            if i >= N:
                continue
            dec = np.ones((1, 1, 1, 1))
            for u in range(t + 1, i + 1):
                dec = dec * _gate_factor(gate_kind, g, u, B, Hq, F)
            qd = qf[:, :, i, :, None] * dec                 # [B,H,F,1]
            lnum[:, :, i] = (qd * S).sum(axis=2)
            lden[:, :, i] = (qd[..., 0] * z).sum(axis=-1)
        scale_lin = np.exp(-m)
        num = num + w1 * scale_lin[..., None] * lnum
        den = den + w1 * scale_lin * lden
        nz = den != 0
        out = np.where(nz[..., None], num / np.where(nz, den, 1.0)[..., None],
                       0.0)
    return out
