// Gated DeltaNet: the delta rule with a scalar per-token decay of the state,
// S_t = a_t S_{t-1} + beta_t k_t (v_t - (a_t S_{t-1})^T k_t)^T,
// o_t = S_t^T q_t / sqrt(d), with a_t = exp(g_t) and a per-head RMS norm.
// Paper: "Gated Delta Networks: Improving Mamba2 with Delta Rule" (Yang,
// Kautz and Hatamizadeh, 2025).
// Choices: q and k come in SiLU-mapped and L2-normalized; g_t <= 0 (the
// Mamba-2 style dt * A) and beta = sigmoid(.) are computed by the caller;
// the output gate is applied after this op; 16 heads of dim 128; eps 1e-5;
// chunk 64.
func.func @gated_deltanet(%q: tensor<?x16x?x128xbf16>,
                          %k: tensor<?x16x?x128xbf16>,
                          %v: tensor<?x16x?x128xbf16>,
                          %g: tensor<?x16x?xf32>, %beta: tensor<?x16x?xbf16>)
    -> tensor<?x16x?x128xbf16> {
  %o = attn.linear_attention %q, %k, %v gate(%g : tensor<?x16x?xf32>)
      beta(%beta : tensor<?x16x?xbf16>)
      {causal, gate = #attn.gate<per_token>, update = #attn.update<delta>,
       scale = 0.0883883461 : f32,
       normalization = #attn.linear_normalization<rms_norm>,
       norm_eps = 1.0e-05 : f32, chunk_size = 64}
      : tensor<?x16x?x128xbf16>, tensor<?x16x?x128xbf16>,
        tensor<?x16x?x128xbf16> -> tensor<?x16x?x128xbf16>
  return %o : tensor<?x16x?x128xbf16>
}
