// Causal linear attention with the second-order Taylor feature map
// phi(x) = [1, x, vec(x x^T)/sqrt(2)], so phi(q)^T phi(k) = 1 + q.k +
// (q.k)^2 / 2 approximates exp(q.k); normalized by the running denominator.
// Feature dim F = 1 + 16 + 256 = 273.
// Paper: "Simple linear attention language models balance the
// recall-throughput tradeoff" (Arora et al., 2024), Based's linear
// attention with a 16-dim query/key feature space.
// Choices: query/key dim 16, value dim 64, 16 heads; Based's 1/sqrt(d)
// temperature inside the Taylor terms is taken to be folded into the q/k
// projections (each scaled by d^(-1/4)); chunk length 64.
func.func @based_taylor_linear_attention(%q: tensor<?x16x?x16xbf16>,
                                         %k: tensor<?x16x?x16xbf16>,
                                         %v: tensor<?x16x?x64xbf16>)
    -> tensor<?x16x?x64xbf16> {
  %o = attn.linear_attention %q, %k, %v
      {causal, feature_map = #attn.feature_map<taylor2>,
       normalization = #attn.linear_normalization<denominator>,
       chunk_size = 64}
      : tensor<?x16x?x16xbf16>, tensor<?x16x?x16xbf16>, tensor<?x16x?x64xbf16>
      -> tensor<?x16x?x64xbf16>
  return %o : tensor<?x16x?x64xbf16>
}
