// NormAttention: causal linear attention with the elu(x) + 1 feature map
// whose output is RMS-normalized instead of divided by the running
// denominator: o_t = n_t / sqrt(mean(n_t^2) + eps), n_t = S_t^T phi(q_t).
// Paper: "The Devil in Linear Transformer" (Qin et al., 2022), TransNormer's
// NormAttention, which drops the scaling denominator to bound gradients.
// Choices: kernel 1 + elu; the RMS norm without its learned weight (applied
// after this op); eps 1e-5; 16 heads of dim 64; chunk 64.
func.func @norm_attention(%q: tensor<?x16x?x64xbf16>,
                          %k: tensor<?x16x?x64xbf16>,
                          %v: tensor<?x16x?x64xbf16>)
    -> tensor<?x16x?x64xbf16> {
  %o = attn.linear_attention %q, %k, %v
      {causal, feature_map = #attn.feature_map<elu_plus_one>,
       normalization = #attn.linear_normalization<rms_norm>,
       norm_eps = 1.0e-05 : f32, chunk_size = 64}
      : tensor<?x16x?x64xbf16>, tensor<?x16x?x64xbf16>, tensor<?x16x?x64xbf16>
      -> tensor<?x16x?x64xbf16>
  return %o : tensor<?x16x?x64xbf16>
}
