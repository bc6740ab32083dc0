// Gated linear attention: causal linear attention whose state rows decay by a
// data-dependent vector gate, S_t = diag(alpha_t) S_{t-1} + k_t v_t^T,
// o_t = S_t^T (q_t / sqrt(d_k)), followed by a per-head RMS normalization.
// The gate comes in log space, gate[b,h,t,:] = log alpha_t (one value per key
// feature).
// Paper: "Gated Linear Attention Transformers with Hardware-Efficient
// Training" (Yang et al., 2024).
// Choices: 16 heads, key dim 128, value dim 256 (the paper's value
// expansion of 2); log alpha = logsigmoid(.)/16 computed by the caller; the
// norm's weight and the swish output gate are applied after this op;
// eps 1e-5; chunk 64.
func.func @gla(%q: tensor<?x16x?x128xbf16>, %k: tensor<?x16x?x128xbf16>,
               %v: tensor<?x16x?x256xbf16>, %log_alpha: tensor<?x16x?x128xf32>)
    -> tensor<?x16x?x256xbf16> {
  %o = attn.linear_attention %q, %k, %v gate(%log_alpha : tensor<?x16x?x128xf32>)
      {causal, gate = #attn.gate<per_key>, scale = 0.0883883461 : f32,
       normalization = #attn.linear_normalization<rms_norm>,
       norm_eps = 1.0e-05 : f32, chunk_size = 64}
      : tensor<?x16x?x128xbf16>, tensor<?x16x?x128xbf16>,
        tensor<?x16x?x256xbf16> -> tensor<?x16x?x256xbf16>
  return %o : tensor<?x16x?x256xbf16>
}
