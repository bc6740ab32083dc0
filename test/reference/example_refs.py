"""The examples of examples/*.mlir transcribed for a float64 reference.

Every function ref_NAME(a, R) evaluates examples/NAME.mlir on the dict `a`
of its kernel arguments (name -> array, as attn-run --write-outputs writes
them) and returns {output_name: reference}. `R` is the reference module:
test/reference/attn_reference.py (NumPy, CPU) or test/gpu/torch_reference.py
(PyTorch, GPU); both offer the same functions, masks and elementwise math
(tanh, exp, log1p, abs, maximum, as_float64, as_int64). The attributes,
masks and regions of each example are transcribed by hand; keep them in
sync with examples/*.mlir.
"""


def _attn(a, R, *, mask=None, mask_mod=None, scale=None, score_mod=None,
          normalization="softmax", sigmoid_bias=None, l1_map=None,
          block_size=None):
    q, k, v = a["query"], a["key"], a["value"]
    if scale is None:
        scale = R.default_scale(q.shape[-1])
    keep = None
    if mask is not None or mask_mod is not None:
        keep = R.mask_keep(mask, a.get("query_segment_ids"),
                           a.get("key_segment_ids"), mask_mod)
    if block_size is not None:
        keep = R.block_mask_keep(keep, block_size, a["kv_num_blocks"],
                                 a["kv_indices"], a["full_kv_num_blocks"],
                                 a["full_kv_indices"], k.shape[2])
    out, lse = R.attention(q, k, v, scale=scale, keep=keep,
                           score_mod=score_mod, normalization=normalization,
                           sigmoid_bias=sigmoid_bias, l1_map=l1_map)
    res = {"output": out}
    if lse is not None:
        res["lse"] = lse
    return res


def _lin(a, R, *, causal=True, scale=None, **kw):
    q, k, v = a["query"], a["key"], a["value"]
    if scale is None:
        scale = R.default_scale(q.shape[-1])
    for name in ("gate", "beta", "initial_state", "feature_weights"):
        if name in a:
            kw[name] = a[name]
    out, fs = R.linear_attention(q, k, v, scale=scale, causal=causal, **kw)
    return {"output": out, "final_state": fs}


def _hyb(a, R, **kw):
    q, k, v = a["query"], a["key"], a["value"]
    for name in ("gate", "feature_weights"):
        if name in a:
            kw[name] = a[name]
    return {"output": R.hybrid(q, k, v, **kw)}


# --- attn.attention examples ------------------------------------------------

def ref_causal_gqa_lse(a, R):
    return _attn(a, R, mask=R.causal())


def ref_block_sparse_flex(a, R):
    return _attn(a, R, mask=R.causal(), block_size=(64, 64))


def ref_cross_attention_pooling_mqa(a, R):
    return _attn(a, R)


def ref_sigma_diffqkv(a, R):
    return _attn(a, R, mask=R.causal())


def ref_softcap_sliding_window(a, R):
    def softcap(s, b, h, i, j):
        return R.tanh(s / 50.0) * 50.0
    return _attn(a, R, mask=R.and_(R.causal(), R.sliding_window(left=1024)),
                 score_mod=softcap)


def ref_streaming_llm_sinks(a, R):
    return _attn(a, R, mask=R.and_(R.causal(),
                                R.or_(R.sinks(4), R.sliding_window(left=1020))))


def ref_alibi(a, R):
    slopes = R.as_float64(a["capture0"])

    def alibi(s, b, h, i, j):
        return s + slopes[h] * R.as_float64(j - i)
    return _attn(a, R, mask=R.causal(), score_mod=alibi)


def ref_document_mask(a, R):
    return _attn(a, R, mask=R.and_(R.causal(), R.document()))


def ref_prefix_lm(a, R):
    return _attn(a, R, mask=R.prefix_lm(256))


def ref_diag_attention(a, R):
    return _attn(a, R, mask=R.and_(R.causal(), R.block_diagonal(64)))


def ref_strided_shard(a, R):
    return _attn(a, R, mask=R.and_(
        R.causal(), R.or_(R.strided_shard(stride=4, block=64),
                          R.sliding_window(left=255))))


DUO_HEADS = [0, 0, 0, 0, 1, 1, 1, 1,
             1, 1, 1, 1, 0, 0, 0, 0,
             1, 1, 1, 1, 0, 0, 0, 0,
             1, 1, 1, 1, 1, 1, 1, 1]


def ref_duo_attention(a, R):
    return _attn(a, R, mask=R.per_head(
        [R.causal(),
         R.and_(R.causal(), R.or_(R.sinks(64), R.sliding_window(left=255)))],
        heads=DUO_HEADS))


def ref_transfusion_mask_mod(a, R):
    ids = R.as_int64(a["capture0"])

    def mask_mod(b, h, i, j):
        causal = j <= i                      # arith.cmpi ule on index
        img_i = ids[b, i]
        img_j = ids[b, j]
        return causal | ((img_i != 0) & (img_i == img_j))
    return _attn(a, R, mask_mod=mask_mod)


def ref_sigmoid_attention(a, R):
    return _attn(a, R, mask=R.causal(), normalization="sigmoid",
                 sigmoid_bias=R.f32(-10.0))


def ref_softplus_l1_attention(a, R):
    def softplus(s):
        return R.maximum(s, 0.0) + R.log1p(R.exp(-R.abs(s)))
    return _attn(a, R, mask=R.causal(), normalization="l1", l1_map=softplus)


def ref_relu_attention(a, R):
    return _attn(a, R, normalization="relu", scale=R.f32(6.37755089e-04))


def ref_neighborhood_2d(a, R):
    return _attn(a, R, mask=R.neighborhood([32, 32], [7, 7], dilation=[2, 2]))


def ref_neighborhood_3d_video(a, R):
    return _attn(a, R, mask=R.neighborhood([8, 16, 16], [3, 7, 7],
                                        causal_axes=[0]))


# --- attn.linear_attention examples -----------------------------------------

def ref_elu_linear_attention(a, R):
    return _lin(a, R, feature_map="elu_plus_one", normalization="denominator")


ref_elu_linear_attention_stateful = ref_elu_linear_attention


def ref_based_taylor_linear_attention(a, R):
    return _lin(a, R, feature_map="taylor2", normalization="denominator")


def ref_hedgehog_linear_attention(a, R):
    return _lin(a, R, feature_map="hedgehog", normalization="denominator")


def ref_transnormerllm_lightning_attention(a, R):
    def swish(x):
        return x / (1.0 + R.exp(-x))
    return _lin(a, R, feature_fn=swish, gate_kind="per_head",
                normalization="rms_norm", norm_eps=R.f32(1e-5))


def ref_norm_attention(a, R):
    return _lin(a, R, feature_map="elu_plus_one", normalization="rms_norm",
                norm_eps=R.f32(1e-5))


def ref_retnet_retention(a, R):
    return _lin(a, R, gate_kind="per_head", scale=R.f32(6.25e-2))


def ref_mamba2_ssd(a, R):
    return _lin(a, R, gate_kind="per_token", scale=1.0)


def ref_gla(a, R):
    return _lin(a, R, gate_kind="per_key", scale=R.f32(0.0883883461),
                normalization="rms_norm", norm_eps=R.f32(1e-5))


def ref_deltanet(a, R):
    return _lin(a, R, update="delta", scale=R.f32(0.0883883461),
                normalization="rms_norm", norm_eps=R.f32(1e-5))


def ref_gated_deltanet(a, R):
    return _lin(a, R, gate_kind="per_token", update="delta",
                scale=R.f32(0.0883883461), normalization="rms_norm",
                norm_eps=R.f32(1e-5))


# --- attn.hybrid examples ---------------------------------------------------

def ref_lolcats_hybrid(a, R):
    return _hyb(a, R, combine="shared_denominator", window=64,
                feature_map="hedgehog", weights=(R.f32(0.1), R.f32(1.0)))


def ref_liger_hybrid(a, R):
    return _hyb(a, R, combine="weighted_sum", window=64,
                weights=(R.f32(0.5), R.f32(0.5)), gate_kind="per_key",
                feature_fn=R.exp)


def ref_based_hybrid(a, R):
    return _hyb(a, R, combine="weighted_sum", window=64, feature_map="taylor2",
                normalization="denominator")


def reference_for(example):
    """The transcription of examples/<example>.mlir."""
    return globals()["ref_" + example]
