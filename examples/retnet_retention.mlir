// Retention: causal linear attention without feature map whose state decays
// by a constant per-head factor, S_t = gamma_h S_{t-1} + k_t v_t^T,
// o_t = S_t^T (q_t / sqrt(d_k)); the decay comes in log space,
// gate[h] = log gamma_h with gamma_h = 1 - 2^(-5-h).
// Paper: "Retentive Network: A Successor to Transformer for Large Language
// Models" (Sun et al., 2023); shapes of RetNet 6.7B (16 heads, key dim 256,
// value dim 512).
// Choices: xPos rotation of q/k and the per-head GroupNorm + swish gate of
// the output are outside this op (GroupNorm's scale invariance is why the
// paper's extra retention normalizations can be dropped); scale 1/16 as the
// paper's d^-1/2 on keys; chunk 64.
func.func @retnet_retention(%q: tensor<?x16x?x256xbf16>,
                            %k: tensor<?x16x?x256xbf16>,
                            %v: tensor<?x16x?x512xbf16>,
                            %log_gamma: tensor<16xf32>)
    -> tensor<?x16x?x512xbf16> {
  %o = attn.linear_attention %q, %k, %v gate(%log_gamma : tensor<16xf32>)
      {causal, gate = #attn.gate<per_head>, scale = 6.250000e-02 : f32,
       chunk_size = 64}
      : tensor<?x16x?x256xbf16>, tensor<?x16x?x256xbf16>,
        tensor<?x16x?x512xbf16> -> tensor<?x16x?x512xbf16>
  return %o : tensor<?x16x?x512xbf16>
}
