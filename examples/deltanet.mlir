// DeltaNet: causal linear attention with the delta rule, which overwrites
// the value stored under key k_t instead of adding to it:
// S_t = S_{t-1} + beta_t k_t (v_t - S_{t-1}^T k_t)^T, o_t = S_t^T q_t / sqrt(d),
// followed by a per-head RMS normalization.
// Paper: "Parallelizing Linear Transformers with the Delta Rule over
// Sequence Length" (Yang et al., 2024).
// Choices: q and k come in already mapped by SiLU and L2-normalized (the
// L2 norm is not elementwise, so it is not a feature map here); beta =
// sigmoid(.) is computed by the caller; 16 heads of dim 128; eps 1e-5;
// chunk 64.
func.func @deltanet(%q: tensor<?x16x?x128xbf16>, %k: tensor<?x16x?x128xbf16>,
                    %v: tensor<?x16x?x128xbf16>, %beta: tensor<?x16x?xbf16>)
    -> tensor<?x16x?x128xbf16> {
  %o = attn.linear_attention %q, %k, %v beta(%beta : tensor<?x16x?xbf16>)
      {causal, update = #attn.update<delta>, scale = 0.0883883461 : f32,
       normalization = #attn.linear_normalization<rms_norm>,
       norm_eps = 1.0e-05 : f32, chunk_size = 64}
      : tensor<?x16x?x128xbf16>, tensor<?x16x?x128xbf16>,
        tensor<?x16x?x128xbf16> -> tensor<?x16x?x128xbf16>
  return %o : tensor<?x16x?x128xbf16>
}
