// Causal linear attention with the learned Hedgehog feature map
// phi(x) = [softmax(x W), softmax(-x W)] (softmax over the M = 64 features,
// F = 128), per head, with separate query (index 0) and key (index 1)
// weights, normalized by the running denominator.
// Paper: "The Hedgehog & the Porcupine: Expressive Linear Attentions with
// Softmax Mimicry" (Zhang et al., 2024).
// Choices: GPT-2-sized heads (12 heads of dim 64), feature width M = 64 per
// sign; chunk length 64.
func.func @hedgehog_linear_attention(%q: tensor<?x12x?x64xbf16>,
                                     %k: tensor<?x12x?x64xbf16>,
                                     %v: tensor<?x12x?x64xbf16>,
                                     %w: tensor<2x12x64x64xf32>)
    -> tensor<?x12x?x64xbf16> {
  %o = attn.linear_attention %q, %k, %v
      feature_weights(%w : tensor<2x12x64x64xf32>)
      {causal, feature_map = #attn.feature_map<hedgehog>,
       normalization = #attn.linear_normalization<denominator>,
       chunk_size = 64}
      : tensor<?x12x?x64xbf16>, tensor<?x12x?x64xbf16>, tensor<?x12x?x64xbf16>
      -> tensor<?x12x?x64xbf16>
  return %o : tensor<?x12x?x64xbf16>
}
