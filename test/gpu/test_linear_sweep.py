"""Sweep of attn.linear_attention shapes through the Python package on CUDA
tensors, against a float64 reference written here from docs/semantics.md
(section 6): S_t = gamma_t S_{t-1} + k_t v_t^T, o_t = scale S_t^T q_t, with
log gates g_t = log gamma_t. In closed form, with P_i = sum_{t <= i} g_t,

    o_i = scale (sum_{j <= i} (q_i . k_j) exp(P_i - P_j) v_j
                 + exp(P_i) S_0^T q_i)
    S_N = exp(P_N) S_0 + sum_j exp(P_N - P_j) k_j v_j^T

computed in float64 on the GPU (an N x N matrix: lengths stay below 5000).
The cases cover what the tensor-core chunk kernel (the linear tile program
on the mma.sync strategy) takes, its edges, and neighbours that must keep
working on the other kernels:

  lengths  N in {1, 2, 17, 63, 64, 65, 127, 129, 300, 1000, 4097}, Dk = Dv
           = 128, a gate per token, bf16 and f16.
  dims     (Dk, Dv) in (64, 64), (64, 128), (128, 64), (128, 192),
           (128, 256) and, on the other kernels, (96, 64), (128, 96),
           (32, 32); N = 300.
  gates    none, per head, per token; mild (logsigmoid / 16) and strong
           (logsigmoid) log gates; N = 300 and 1000.
  states   initial state in, final state out; N in {1, 129, 300}.
  heads    key/value heads 16/16, 16/4 (GQA), 16/1; B = 3.
  norms    rms_norm with Dv = 64 (one block holds the row) and Dv = 128.
  gla      a gate per key feature (GLA): lengths {1, 17, 64, 65, 300, 1000},
           dims (64, 64), (128, 64), (128, 256), f16, states, GQA, and
           strong and hard (4 logsigmoid) gates, whose chunk decays exceed
           the factored form's bound, so that the kernel takes its exact
           path in some or all chunks; against the float64
           recurrence with a decay per state row.
  gate_dtype  bf16 gates per token and per key feature, N = 300.
  segments few (sequence, head) pairs (B = 1 or 2, H = 1 to 4) and N up to
           4097, so that the runtime cuts each sequence into 2 to 16
           segments (the chunk-parallel form): every gate kind, states,
           rms_norm, GQA, f16, strong gates.
  delta    the delta rule (section 6.5, with L2-normalized keys and
           beta = sigmoid(.)), gate none and per token: lengths
           {1, 17, 63, 64, 65, 300, 1000}, dims (64, 64), (128, 64),
           (128, 256), f16, states, GQA, strong gates; checked against the
           float64 recurrence S_t = a_t S_{t-1} + beta_t k_t (v_t -
           a_t S_{t-1}^T k_t)^T, o_t = scale S_t^T q_t, step by step.
  delta_segments  the delta rule's chunk-parallel form: few (sequence,
           head) pairs and N from 1500 to 4097, every gate kind it takes,
           states, GQA, f16 with strong gates, Dk = 64, rms_norm.
  fmap     elementwise feature maps on q and k (relu, elu_plus_one and a
           traced region, squared ReLU), which the tensor-core chunk kernel
           applies to each loaded tile: every gate kind, the delta rule
           (relu keeps a normalized key's norm at most 1), states, and the
           chunk-parallel forms of both rules.

Each case asserts max|got - ref| / max|ref| <= 2e-2 (bf16) or 1e-2 (f16)
for the output and the final state, and finite outputs.

    python3 -m pytest -q test/gpu/test_linear_sweep.py
"""

import os
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))

torch = pytest.importorskip("torch")
if not torch.cuda.is_available():
    pytest.skip("needs a CUDA device", allow_module_level=True)
sys.path.insert(0, os.path.join(REPO, "python-bindings"))
import attn  # noqa: E402

TOLERANCE = {"bf16": 2e-2, "f16": 1e-2}
DTYPES = {"bf16": torch.bfloat16, "f16": torch.float16}


class Case:
    def __init__(self, sweep, dtype="bf16", n=300, dk=128, dv=128,
                 gate="per_token", strength="mild", state=False, heads=16,
                 kv_heads=16, batch=2, norm=None, rule="additive",
                 gate_dtype="f32", fmap=None):
        self.sweep, self.dtype, self.n, self.dk, self.dv = (sweep, dtype, n,
                                                            dk, dv)
        self.gate, self.strength, self.state = gate, strength, state
        self.heads, self.kv_heads, self.batch, self.norm = (heads, kv_heads,
                                                            batch, norm)
        self.rule, self.gate_dtype, self.fmap = rule, gate_dtype, fmap

    @property
    def id(self):
        return (f"{self.sweep}-{self.dtype}-n{self.n}-d{self.dk}x{self.dv}-"
                f"{self.gate}-{self.strength}"
                f"{'-state' if self.state else ''}"
                f"-h{self.heads}x{self.kv_heads}-b{self.batch}"
                f"{'-' + self.norm if self.norm else ''}"
                f"{'-delta' if self.rule == 'delta' else ''}"
                f"{'-gates_' + self.gate_dtype if self.gate_dtype != 'f32' else ''}"
                f"{'-' + self.fmap if self.fmap else ''}")


def cases():
    out = []
    for dtype in ("bf16", "f16"):
        for n in (1, 2, 17, 63, 64, 65, 127, 129, 300, 1000, 4097):
            out.append(Case("lengths", dtype, n=n))
    for dk, dv in ((64, 64), (64, 128), (128, 64), (128, 192), (128, 256),
                   (96, 64), (128, 96), (32, 32)):
        out.append(Case("dims", dk=dk, dv=dv))
    for gate in ("none", "per_head", "per_token"):
        for strength in ("mild", "strong"):
            for n in (300, 1000):
                out.append(Case("gates", n=n, gate=gate, strength=strength))
    for n in (1, 129, 300):
        for dtype in ("bf16", "f16"):
            out.append(Case("states", dtype, n=n, state=True))
    for kv in (16, 4, 1):
        out.append(Case("heads", kv_heads=kv, batch=3))
    for dv in (64, 128):
        out.append(Case("norms", dv=dv, norm="rms_norm"))
    for gate in ("none", "per_token"):
        for n in (1, 17, 63, 64, 65, 300, 1000):
            out.append(Case("delta", n=n, gate=gate, rule="delta"))
    for dk, dv in ((64, 64), (128, 64), (128, 256)):
        out.append(Case("delta", dk=dk, dv=dv, rule="delta"))
    # At Dk = 64 every gate kind takes 64 value columns a block; at Dk = 128
    # a gate per token or none, and only on sm_90 (getTensorCoreValueColumns).
    for gate in ("none", "per_head"):
        out.append(Case("delta", n=1000, dk=64, dv=128, gate=gate,
                        rule="delta"))
    out.append(Case("delta", n=1000, gate="per_head", rule="delta"))
    for n in (1, 17, 64, 65, 300, 1000):
        out.append(Case("gla", n=n, gate="per_key"))
    for dk, dv in ((64, 64), (128, 64), (128, 256)):
        out.append(Case("gla", dk=dk, dv=dv, gate="per_key"))
    out += [Case("gla", "f16", gate="per_key"),
            Case("gla", n=129, state=True, gate="per_key"),
            Case("gla", kv_heads=4, batch=3, gate="per_key"),
            Case("gla", strength="strong", n=1000, gate="per_key"),
            Case("gla", strength="hard", n=300, gate="per_key",
                 dtype="f16")]
    # Gates stored in bf16: per token the tensor-core kernel widens them as
    # it prefetches; per key feature they take the chunk loops.
    out += [Case("gate_dtype", n=300, gate="per_token", gate_dtype="bf16"),
            Case("gate_dtype", n=300, gate="per_key", gate_dtype="bf16")]
    # The chunk-parallel form (ChunkSegments): few (sequence, head) blocks
    # and long sequences, so that the runtime cuts each sequence into
    # segments (chooseChunkSegments: about 256 blocks, 8 chunks or more a
    # segment), boundary blocks and output blocks side by side.
    for gate in ("none", "per_head", "per_token", "per_key"):
        for n in (1000, 4097):
            out.append(Case("segments", n=n, gate=gate, heads=2, kv_heads=2,
                            batch=1))
    out += [Case("segments", n=2500, state=True, heads=2, kv_heads=2,
                 batch=1),
            Case("segments", n=2500, state=True, gate="per_key", heads=2,
                 kv_heads=2, batch=1),
            Case("segments", n=4097, dv=64, norm="rms_norm", heads=2,
                 kv_heads=2, batch=1),
            Case("segments", "f16", n=3000, strength="strong", heads=4,
                 kv_heads=1, batch=1),
            Case("segments", n=4097, gate="per_key", strength="strong",
                 heads=1, kv_heads=1, batch=1),
            Case("segments", n=4097, gate="per_head", state=True, heads=1,
                 kv_heads=1, batch=2)]
    # The delta rule's chunk-parallel form (ChunkSegments' delta
    # transforms): transform blocks, a chain block per value split and
    # output blocks side by side.
    for gate in ("none", "per_head", "per_token"):
        for n in (1500, 4097):
            out.append(Case("delta_segments", n=n, gate=gate, heads=2,
                            kv_heads=2, batch=1, rule="delta"))
    out += [Case("delta_segments", n=2500, state=True, heads=2, kv_heads=2,
                 batch=1, rule="delta"),
            Case("delta_segments", "f16", n=3000, strength="strong",
                 heads=4, kv_heads=1, batch=1, rule="delta"),
            Case("delta_segments", n=4097, dk=64, dv=128, gate="per_head",
                 heads=1, kv_heads=1, batch=2, rule="delta"),
            Case("delta_segments", n=3001, dv=64, norm="rms_norm", heads=2,
                 kv_heads=2, batch=1, rule="delta")]
    for fmap, gate in (("relu", "per_token"), ("relu", "per_key"),
                       ("elu_plus_one", "none"), ("elu_plus_one", "per_head"),
                       ("squared_relu", "per_token")):
        for n in (65, 1000):
            out.append(Case("fmap", n=n, gate=gate, fmap=fmap))
    out += [Case("fmap", n=300, state=True, fmap="elu_plus_one"),
            Case("fmap", "f16", n=300, fmap="squared_relu"),
            Case("fmap", n=1000, rule="delta", fmap="relu"),
            Case("fmap", n=1000, rule="delta", gate="none",
                 fmap="squared_relu"),
            Case("fmap", n=4097, heads=2, kv_heads=2, batch=1,
                 fmap="elu_plus_one"),
            Case("fmap", n=4097, heads=2, kv_heads=2, batch=1, rule="delta",
                 fmap="relu")]
    out += [Case("delta", "f16", rule="delta"),
            Case("delta", n=129, state=True, rule="delta"),
            Case("delta", kv_heads=4, batch=3, rule="delta"),
            Case("delta", strength="strong", n=1000, rule="delta")]
    return out


def reference(q, k, v, g, s0, scale, norm, eps=1e-6):
    """float64 closed form of the module docstring; q, k, v [B, H, N, D]
    with K/V heads already repeated; g [B, H, N] log gates."""
    q, k, v, g = (x.double() for x in (q, k, v, g))
    p = torch.cumsum(g, dim=-1)                              # [B, H, N]
    n = q.shape[2]
    causal = torch.ones(n, n, dtype=torch.bool, device=q.device).tril()
    decay = torch.exp((p[..., :, None] - p[..., None, :])
                      .masked_fill(~causal, float("-inf")))
    scores = (q @ k.transpose(-1, -2)) * decay
    o = scores @ v
    if s0 is not None:
        o = o + torch.exp(p)[..., None] * (q @ s0.double())
    o = o * scale
    if norm == "rms_norm":
        o = o / torch.sqrt((o * o).mean(-1, keepdim=True) + eps)
    last = p[..., -1]
    weights = torch.exp(last[..., None] - p)                   # [B, H, N]
    final = (k * weights[..., None]).transpose(-1, -2) @ v
    if s0 is not None:
        final = final + torch.exp(last)[..., None, None] * s0.double()
    return o, final


def recurrence_reference(q, k, v, g, beta, s0, scale, norm, eps=1e-6):
    """float64 recurrence of sections 6.4-6.5, one token at a time; shapes as
    reference() takes them, g [B, H, N] or [B, H, N, Dk] (a gate per key
    feature decays each state row on its own), beta [B, H, N] for the
    delta rule or None."""
    q, k, v, g = (x.double() for x in (q, k, v, g))
    b, h, n, dk = q.shape
    state = (s0.double().clone() if s0 is not None else
             torch.zeros(b, h, dk, v.shape[-1], dtype=torch.float64,
                         device=q.device))
    outs = []
    for t in range(n):
        decay = torch.exp(g[:, :, t])
        decay = decay[..., :, None] if g.dim() == 4 else decay[..., None, None]
        state = state * decay
        kt = k[:, :, t]
        update = v[:, :, t]
        if beta is not None:
            old = torch.einsum("bhfd,bhf->bhd", state, kt)
            update = beta[:, :, t, None].double() * (update - old)
        state = state + kt[..., :, None] * update[..., None, :]
        outs.append(torch.einsum("bhfd,bhf->bhd", state, q[:, :, t]))
    o = (torch.stack(outs, dim=2) if outs else
         torch.zeros(b, h, 0, v.shape[-1], dtype=torch.float64,
                     device=q.device)) * scale
    if norm == "rms_norm":
        o = o / torch.sqrt((o * o).mean(-1, keepdim=True) + eps)
    return o, state


# How the kernel is told each feature map, and what it computes.
FEATURE_MAPS = {
    "relu": ("relu", torch.relu),
    "elu_plus_one": ("elu_plus_one",
                     lambda x: torch.nn.functional.elu(x) + 1),
    "squared_relu": (lambda x: attn.maximum(x, 0.0) * attn.maximum(x, 0.0),
                     lambda x: torch.relu(x) ** 2),
}


def relative_error(got, ref):
    scale = ref.abs().max().item()
    return (got.double() - ref).abs().max().item() / max(scale, 1e-30)


@pytest.mark.parametrize("case", cases(), ids=lambda c: c.id)
def test_linear(case):
    gen = torch.Generator(device="cuda").manual_seed(hash(case.id) % 2**31)
    dtype = DTYPES[case.dtype]
    b, h, hk, n = case.batch, case.heads, case.kv_heads, case.n

    def randn(*shape):
        return torch.randn(*shape, generator=gen, device="cuda")

    q = randn(b, h, n, case.dk).to(dtype)
    k = randn(b, hk, n, case.dk)
    if case.rule == "delta":
        k = torch.nn.functional.normalize(k, dim=-1)
    k = k.to(dtype)
    v = randn(b, hk, n, case.dv).to(dtype)
    divisor = {"mild": 16.0, "strong": 1.0, "hard": 0.25}[case.strength]
    kwargs = {}
    gate_type = {"f32": torch.float32, "bf16": torch.bfloat16}[case.gate_dtype]
    if case.gate == "per_token":
        g = (torch.nn.functional.logsigmoid(randn(b, h, n)) / divisor
             ).to(gate_type)
        kwargs = {"gate": g, "gate_kind": "per_token"}
        g_full = g
    elif case.gate == "per_key":
        g = (torch.nn.functional.logsigmoid(randn(b, h, n, case.dk))
             / divisor).to(gate_type)
        kwargs = {"gate": g, "gate_kind": "per_key"}
        g_full = g
    elif case.gate == "per_head":
        g = torch.nn.functional.logsigmoid(randn(h)) / divisor
        kwargs = {"gate": g, "gate_kind": "per_head"}
        g_full = g[None, :, None].expand(b, h, n)
    else:
        g_full = torch.zeros(b, h, n, device="cuda")
    s0 = randn(b, h, case.dk, case.dv) if case.state else None
    if s0 is not None:
        kwargs["initial_state"] = s0
        kwargs["return_state"] = True
    if case.norm:
        kwargs["normalization"] = case.norm
    beta = None
    if case.rule == "delta":
        beta = torch.sigmoid(randn(b, h, n)).to(dtype)
        kwargs["rule"] = "delta"
        kwargs["beta"] = beta
    qf, kf = q, k
    if case.fmap:
        kwargs["feature_map"], phi = FEATURE_MAPS[case.fmap]
        qf, kf = phi(q.double()), phi(k.double())
    result = attn.linear_attention(q, k, v, chunk=64, **kwargs)
    out, state = (result if case.state else (result, None))
    torch.cuda.synchronize()
    rep = h // hk
    kr = kf.repeat_interleave(rep, dim=1)
    vr = v.repeat_interleave(rep, dim=1)
    if case.rule == "delta" or case.gate == "per_key":
        ref_out, ref_state = recurrence_reference(qf, kr, vr, g_full, beta,
                                                  s0, case.dk ** -0.5,
                                                  case.norm)
    else:
        ref_out, ref_state = reference(qf, kr, vr, g_full, s0,
                                       case.dk ** -0.5, case.norm)
    assert torch.isfinite(out).all(), "non-finite output"
    if n:
        err = relative_error(out, ref_out)
        assert err <= TOLERANCE[case.dtype], f"output max_rel_err={err:.3e}"
    if state is not None:
        err = relative_error(state, ref_state)
        assert err <= TOLERANCE[case.dtype], f"state max_rel_err={err:.3e}"
