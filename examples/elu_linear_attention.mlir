// Causal linear attention with the elu(x) + 1 feature map, normalized by the
// running denominator: o_i = phi(q_i)^T S_i / phi(q_i)^T z_i with
// S_i = sum_{j<=i} phi(k_j) v_j^T and z_i = sum_{j<=i} phi(k_j).
// Paper: "Transformers are RNNs: Fast Autoregressive Transformers with
// Linear Attention" (Katharopoulos et al., 2020).
// Choices: 8 heads of dim 64; no extra scale
// (any scale on phi(q) cancels under the denominator); chunk length 64.
func.func @elu_linear_attention(%q: tensor<?x8x?x64xbf16>,
                                %k: tensor<?x8x?x64xbf16>,
                                %v: tensor<?x8x?x64xbf16>)
    -> tensor<?x8x?x64xbf16> {
  %o = attn.linear_attention %q, %k, %v
      {causal, feature_map = #attn.feature_map<elu_plus_one>,
       normalization = #attn.linear_normalization<denominator>,
       chunk_size = 64}
      : tensor<?x8x?x64xbf16>, tensor<?x8x?x64xbf16>, tensor<?x8x?x64xbf16>
      -> tensor<?x8x?x64xbf16>
  return %o : tensor<?x8x?x64xbf16>
}
