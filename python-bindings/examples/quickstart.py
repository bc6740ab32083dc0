"""attn's Python quickstart: four attention variants written in Python,
compiled to fused kernels on first use, run on PyTorch CUDA tensors and
checked against plain PyTorch in float64.

    python3 python-bindings/examples/quickstart.py
"""

import math

import torch

import attn

torch.manual_seed(0)
dev, bf16, f64 = "cuda", torch.bfloat16, torch.float64
B, H, N, D = 2, 8, 1024, 64


def randn(*shape):
    return torch.randn(*shape, device=dev, dtype=bf16)


def check(name, got, ref, tol=1e-2):
    err = ((got.double() - ref).abs().max() / ref.abs().max()).item()
    print(f"{name}: max_rel_err={err:.2e} ({'ok' if err <= tol else 'FAIL'})")
    assert err <= tol, name


def softmax_ref(q, k, v, bias=None, keep=None, cap=None):
    s = (q.double() @ k.double().transpose(-1, -2)) / math.sqrt(q.shape[-1])
    if cap is not None:
        s = cap * torch.tanh(s / cap)
    if bias is not None:
        s = s + bias
    if keep is not None:
        s = s.masked_fill(~keep, float("-inf"))
    return torch.softmax(s, dim=-1) @ v.double()


q, k, v = randn(B, H, N, D), randn(B, H, N, D), randn(B, H, N, D)
i = torch.arange(N, device=dev)[:, None]
j = torch.arange(N, device=dev)[None, :]

# 1. Causal + tanh soft-capping + a sliding window of 256 keys, written as
#    FlexAttention-style score_mod and mask_mod functions.
def softcap(score, b, h, q_idx, kv_idx):
    return 30.0 * torch.tanh(score / 30.0)


def sliding_causal(b, h, q_idx, kv_idx):
    return (kv_idx <= q_idx) & (q_idx - kv_idx < 256)


out = attn.attention(q, k, v, score_mod=softcap, mask_mod=sliding_causal)
check("softcap + sliding window", out,
      softmax_ref(q, k, v, cap=30.0, keep=(j <= i) & (i - j < 256)))

# 2. ALiBi: the slopes are a captured tensor, a kernel argument; new values
#    reuse the compiled kernel.
slopes = torch.tensor([2.0 ** (-8 * (h + 1) / H) for h in range(H)],
                      device=dev)


def alibi(score, b, h, q_idx, kv_idx):
    return score + slopes[h] * (kv_idx - q_idx)


out = attn.attention(q, k, v, score_mod=alibi, mask="causal")
bias = (slopes.double()[:, None, None] * (j - i)).unsqueeze(0)
check("alibi", out, softmax_ref(q, k, v, bias=bias, keep=j <= i))

# 3. Gated linear attention: a per-key log-space decay gate [B, H, N, D].
gate = torch.nn.functional.logsigmoid(
    torch.randn(B, H, N, D, device=dev)) / 16
out = attn.linear_attention(q, k, v, gate=gate, chunk=64)
S = torch.zeros(B, H, D, D, device=dev, dtype=f64)
ref = torch.empty(B, H, N, D, device=dev, dtype=f64)
for t in range(N):
    S = gate[:, :, t, :, None].double().exp() * S + \
        k[:, :, t, :, None].double() * v[:, :, t, None, :].double()
    ref[:, :, t] = (q[:, :, t, :, None].double() / math.sqrt(D) * S).sum(2)
check("gated linear attention", out, ref)

# 4. A LoLCATs-style hybrid: softmax over the last 64 keys, Hedgehog linear
#    attention over the older ones, one shared denominator.
M, window, w0, w1 = 32, 64, 0.1, 1.0
weights = torch.randn(2, H, D, M, device=dev) / math.sqrt(D)
out = attn.hybrid(q, k, v, window=window, feature_map="hedgehog",
                  feature_weights=weights, weights=(w0, w1))


def hedgehog(x, w):
    z = x.double() @ w.double()
    return torch.cat([torch.softmax(z, -1), torch.softmax(-z, -1)], -1)


s = (q.double() @ k.double().transpose(-1, -2)) / math.sqrt(D)
near = (j <= i) & (j > i - window)
far = j <= i - window
m = s.masked_fill(~near, float("-inf")).amax(-1, keepdim=True)
e = torch.where(near, (s - m).exp(), 0.0)
a = torch.where(far, hedgehog(q, weights[0]) @
                hedgehog(k, weights[1]).transpose(-1, -2), 0.0)
a = a * (-m).exp()
ref = (w0 * e + w1 * a) @ v.double() / (w0 * e + w1 * a).sum(-1, keepdim=True)
check("lolcats hybrid", out, ref)
print("quickstart: all four variants match PyTorch")
