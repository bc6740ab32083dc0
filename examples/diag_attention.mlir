// Block-diagonal (DiagAttention) softmax attention: the sequence is cut into
// non-overlapping blocks of 64 tokens and each query attends only inside its
// own block, causally.
// Paper: "The Devil in Linear Transformer" (Qin et al., 2022), TransNormer's
// DiagAttention used in the early layers.
// Choices: the autoregressive (language modeling) form, i.e. and-ed with a
// causal mask; the paper's bidirectional form drops #attn.causal. Block size
// 64; default scale 1/sqrt(64).
func.func @diag_attention(%q: tensor<?x16x?x64xbf16>,
                          %k: tensor<?x16x?x64xbf16>,
                          %v: tensor<?x16x?x64xbf16>)
    -> tensor<?x16x?x64xbf16> {
  %o = attn.attention %q, %k, %v
      {mask = #attn.and<[#attn.causal, #attn.block_diagonal<size = 64>]>}
      : tensor<?x16x?x64xbf16>, tensor<?x16x?x64xbf16>,
        tensor<?x16x?x64xbf16> -> tensor<?x16x?x64xbf16>
  return %o : tensor<?x16x?x64xbf16>
}
