// Causal softmax attention with grouped-query attention, 16 query heads
// sharing 4 key/value heads (4:1), that also returns the log-sum-exp of each
// score row, lse[b,h,i] = log sum_{j<=i} exp(s_ij), in fp32.
// Paper: "GQA: Training Generalized Multi-Query Transformer Models from
// Multi-Head Checkpoints" (Ainslie et al., 2023). The lse is the softmax
// normalizer that consumers of the attention distribution need, e.g. a
// copy/pointer head that reads the attention weights as log-probabilities
// ("Pointer Networks", Vinyals et al., 2015) or split-KV / ring attention
// merging partial outputs.
// Choices: causal with the default bottom-right alignment (FlashAttention-2
// convention; equal to top-left when Nq == Nk), default scale 1/sqrt(128).
func.func @causal_gqa_lse(%q: tensor<?x16x?x128xbf16>,
                          %k: tensor<?x4x?x128xbf16>,
                          %v: tensor<?x4x?x128xbf16>)
    -> (tensor<?x16x?x128xbf16>, tensor<?x16x?xf32>) {
  %o, %lse = attn.attention %q, %k, %v {mask = #attn.causal}
      : tensor<?x16x?x128xbf16>, tensor<?x4x?x128xbf16>,
        tensor<?x4x?x128xbf16>
      -> tensor<?x16x?x128xbf16>, tensor<?x16x?xf32>
  return %o, %lse : tensor<?x16x?x128xbf16>, tensor<?x16x?xf32>
}
