// Based-style hybrid: causal softmax attention over a small 64-token sliding
// window plus causal Taylor linear attention (phi(x) = [1, x,
// vec(x x^T)/sqrt(2)], F = 273, normalized by its running denominator) over
// all keys, summed: o_i = softmax_{W_i}(s_i) v + lin_i.
// Paper: "Simple linear attention language models balance the
// recall-throughput tradeoff" (Arora et al., 2024).
// Choices: Based interleaves sliding-window and linear-attention layers;
// this spec combines the two in one op with weights [1, 1] (the default),
// both terms reading the same 16-dim queries/keys (16 heads, value dim 64).
// Softmax scale 1/sqrt(16); the linear term is unscaled (its scale cancels
// under the denominator); chunk 64.
func.func @based_hybrid(%q: tensor<?x16x?x16xbf16>, %k: tensor<?x16x?x16xbf16>,
                        %v: tensor<?x16x?x64xbf16>) -> tensor<?x16x?x64xbf16> {
  %o = attn.hybrid %q, %k, %v
      {combine = #attn.combine<weighted_sum>, window = 64,
       feature_map = #attn.feature_map<taylor2>,
       normalization = #attn.linear_normalization<denominator>,
       chunk_size = 64}
      : tensor<?x16x?x16xbf16>, tensor<?x16x?x16xbf16>,
        tensor<?x16x?x64xbf16> -> tensor<?x16x?x64xbf16>
  return %o : tensor<?x16x?x64xbf16>
}
