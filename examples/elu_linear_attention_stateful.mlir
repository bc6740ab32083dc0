// The recurrent (RNN) form of causal elu(x) + 1 linear attention with the
// denominator: it starts from a carried state and returns the state after
// the last token, so a long sequence or a generation can continue chunk by
// chunk. The fp32 state is [B, H, F, Dv + 1] = [B, 8, 64, 65]: S in the
// first 64 columns and the normalizer z = sum phi(k_j) in the last.
// Paper: "Transformers are RNNs: Fast Autoregressive Transformers with
// Linear Attention" (Katharopoulos et al., 2020), section on the RNN view.
// Choices: as elu_linear_attention.mlir (8 heads of dim 64, chunk 64).
func.func @elu_linear_attention_stateful(%q: tensor<?x8x?x64xbf16>,
                                         %k: tensor<?x8x?x64xbf16>,
                                         %v: tensor<?x8x?x64xbf16>,
                                         %s0: tensor<?x8x64x65xf32>)
    -> (tensor<?x8x?x64xbf16>, tensor<?x8x64x65xf32>) {
  %o, %s = attn.linear_attention %q, %k, %v
      initial_state(%s0 : tensor<?x8x64x65xf32>)
      {causal, feature_map = #attn.feature_map<elu_plus_one>,
       normalization = #attn.linear_normalization<denominator>,
       chunk_size = 64}
      : tensor<?x8x?x64xbf16>, tensor<?x8x?x64xbf16>, tensor<?x8x?x64xbf16>
      -> tensor<?x8x?x64xbf16>, tensor<?x8x64x65xf32>
  return %o, %s : tensor<?x8x?x64xbf16>, tensor<?x8x64x65xf32>
}
