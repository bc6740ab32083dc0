"""The package on the CPU backend against the float64 reference of
test/reference (written from docs/semantics.md)."""

import math

import numpy as np

import attn
import attn_reference as R


def rand(shape, seed):
    return np.random.default_rng(seed).standard_normal(shape).astype(
        np.float32)


def rel_err(got, ref):
    return float(np.abs(got - ref).max() / max(np.abs(ref).max(), 1e-30))


def test_softcap_sliding_window_causal():
    q, k, v = rand((2, 4, 37, 16), 1), rand((2, 2, 37, 16), 2), \
        rand((2, 2, 37, 16), 3)

    def softcap(score, b, h, q_idx, kv_idx):
        return 20.0 * attn.tanh(score / 20.0)

    def window(b, h, q_idx, kv_idx):
        return (kv_idx <= q_idx) & (q_idx - kv_idx < 8)

    out = attn.attention(q, k, v, score_mod=softcap, mask_mod=window)
    ref, _ = R.attention(
        q, k, v, scale=1 / math.sqrt(16),
        score_mod=lambda x, b, h, i, j: 20.0 * np.tanh(x / 20.0),
        keep=lambda b, h, i, j: (j <= i) & (i - j < 8))
    assert rel_err(out, ref) < 1e-5


def test_alibi_with_captured_slopes_and_lse():
    q, k, v = rand((1, 4, 20, 16), 4), rand((1, 4, 20, 16), 5), \
        rand((1, 4, 20, 8), 6)
    slopes = np.array([0.5, 0.25, 0.125, 0.0625], np.float32)
    out, lse = attn.attention(
        q, k, v, mask="causal", return_lse=True,
        score_mod=lambda s, b, h, i, j: s + attn.capture(slopes)[h] * (j - i))
    ref, ref_lse = R.attention(
        q, k, v, scale=1 / math.sqrt(16), keep=lambda b, h, i, j: j <= i,
        score_mod=lambda x, b, h, i, j: x + slopes[h] * (j - i))
    assert rel_err(out, ref) < 1e-5
    assert rel_err(lse, ref_lse) < 1e-5


def test_fully_masked_rows_are_zero():
    q, k, v = rand((1, 2, 6, 16), 7), rand((1, 2, 6, 16), 8), \
        rand((1, 2, 6, 16), 9)
    out, lse = attn.attention(q, k, v, return_lse=True,
                              mask_mod=lambda b, h, i, j: j < i)
    assert np.all(out[:, :, 0] == 0.0)
    assert np.all(np.isneginf(lse[:, :, 0]))


def test_gated_linear_attention():
    B, H, N, D = 1, 2, 70, 16
    q, k, v = rand((B, H, N, D), 10), rand((B, H, N, D), 11), \
        rand((B, H, N, D), 12)
    gate = -np.abs(rand((B, H, N), 13)) * 0.1
    out, state = attn.linear_attention(q, k, v, gate=gate, chunk=16,
                                       return_state=True)
    ref, ref_state = R.linear_attention(q, k, v, scale=1 / math.sqrt(D),
                                        causal=True, gate_kind="per_token",
                                        gate=gate)
    assert rel_err(out, ref) < 1e-4
    assert rel_err(state, ref_state) < 1e-4


def test_linear_attention_with_a_gate_per_head():
    # A [H] gate: the front end once read shape[1] of it and failed.
    B, H, N, D = 2, 3, 45, 16
    q, k, v = rand((B, H, N, D), 30), rand((B, H, N, D), 31), \
        rand((B, H, N, D), 32)
    gate = -np.abs(rand((H,), 33)) * 0.2
    out = attn.linear_attention(q, k, v, gate=gate, gate_kind="per_head",
                                chunk=16)
    ref, _ = R.linear_attention(q, k, v, scale=1 / math.sqrt(D),
                                causal=True, gate_kind="per_head", gate=gate)
    assert rel_err(out, ref) < 1e-4


def test_feature_map_function_is_traced():
    q, k, v = rand((1, 2, 40, 16), 14), rand((1, 2, 40, 16), 15), \
        rand((1, 2, 40, 16), 16)
    out = attn.linear_attention(q, k, v, chunk=16,
                                feature_map=lambda x: attn.exp(x) * 0.5,
                                normalization="denominator")
    assert "feature_map {" in attn.last_spec[0]
    ref, _ = R.linear_attention(q, k, v, scale=1 / math.sqrt(16), causal=True,
                                feature_fn=lambda x: np.exp(x) * 0.5,
                                normalization="denominator")
    assert rel_err(out, ref) < 1e-4


def test_lolcats_style_hybrid():
    B, H, N, D, M = 1, 2, 50, 16, 8
    q, k, v = rand((B, H, N, D), 17), rand((B, H, N, D), 18), \
        rand((B, H, N, D), 19)
    w = rand((2, H, D, M), 20) * 0.3
    out = attn.hybrid(q, k, v, window=8, feature_map="hedgehog",
                      feature_weights=w, weights=(0.1, 1.0), chunk=16)
    ref = R.hybrid(q, k, v, combine="shared_denominator", window=8,
                   weights=(0.1, 1.0), feature_map="hedgehog",
                   feature_weights=w)
    assert rel_err(out, ref) < 1e-4


def test_compiled_example_on_numpy():
    import os
    path = os.path.join(os.path.dirname(__file__), "..", "..", "examples",
                        "causal_gqa_lse.mlir")
    kernel = attn.compile(path, backend="cpu")
    q = rand((1, 16, 9, 128), 21)
    k, v = rand((1, 4, 9, 128), 22), rand((1, 4, 9, 128), 23)
    out, lse = kernel(q, k, v)
    ref, ref_lse = R.attention(q, k, v, scale=1 / math.sqrt(128),
                               keep=lambda b, h, i, j: j <= i)
    assert rel_err(out, ref) < 1e-5 and rel_err(lse, ref_lse) < 1e-5
    out2 = np.empty_like(out)
    lse2 = np.empty_like(lse)
    kernel(q, k, v, out=(out2, lse2))
    assert np.array_equal(out2, out)


def test_empty_sequences_give_empty_outputs():
    q = rand((2, 4, 0, 16), 24)
    k, v = rand((2, 2, 0, 16), 25), rand((2, 2, 0, 8), 26)
    out, lse = attn.attention(q, k, v, mask="causal", return_lse=True,
                              score_mod=lambda s, b, h, i, j: s * 0.5)
    assert out.shape == (2, 4, 0, 8) and out.dtype == np.float32
    assert lse.shape == (2, 4, 0)
    out = attn.attention(q[:0], k[:0], v[:0])
    assert out.shape == (0, 4, 0, 8)


def test_no_keys_give_empty_rows():
    # Every row has no kept key: output 0, lse -inf (docs/semantics.md 2.4).
    q = rand((1, 2, 3, 16), 27)
    k, v = rand((1, 2, 0, 16), 28), rand((1, 2, 0, 8), 29)
    out, lse = attn.attention(q, k, v, return_lse=True)
    assert out.shape == (1, 2, 3, 8) and np.all(out == 0.0)
    assert np.all(np.isneginf(lse))


def test_empty_linear_attention_keeps_the_state():
    q = rand((1, 2, 0, 16), 30)
    state0 = rand((1, 2, 16, 16), 31)
    out, state = attn.linear_attention(q, q, q, initial_state=state0,
                                       gate=rand((1, 2, 0), 32), chunk=16,
                                       return_state=True)
    assert out.shape == (1, 2, 0, 16)
    assert np.array_equal(state, state0)


def test_modulo_follows_python_on_negative_operands():
    # Python's % takes the divisor's sign: (i - j) % 3 is 0, 1 or 2 for
    # every i, j, and the float % of a negative score is non-negative too.
    q, k, v = rand((1, 2, 11, 16), 21), rand((1, 2, 13, 16), 22), \
        rand((1, 2, 13, 16), 23)

    def periodic(score, b, h, q_idx, kv_idx):
        return score % 0.75 + (q_idx - kv_idx) % 3 + (kv_idx - 20) % -4

    out = attn.attention(q, k, v, score_mod=periodic)
    ref, _ = R.attention(
        q, k, v, scale=1 / math.sqrt(16),
        score_mod=lambda x, b, h, i, j: np.mod(x, 0.75) + np.mod(i - j, 3)
        + np.mod(j - 20, -4),
        keep=lambda b, h, i, j: np.ones_like(i, dtype=bool))
    assert rel_err(out, ref) < 1e-5
