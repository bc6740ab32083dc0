// Causal softplus attention: the exp of softmax is replaced by softplus,
// f_ij = log(1 + exp(s_ij)), and the weights are f_ij / sum_{j<=i} f_ij
// (l1 normalization).
// Paper: "Softplus Attention with Re-weighting Boosts Length Extrapolation
// in Large Language Models" (Gao and Spratling, 2025); GPT-2 small shapes
// (12 heads of dim 64) as in the paper's experiments.
// Choices: only the first stage (softplus + l1 normalization); the paper's
// length-dependent scale factor and its re-weighting (sharpening) stage,
// which acts on already-normalized weights, are not part of this spec.
// Softplus is computed stably as max(x, 0) + log1p(exp(-|x|)).
func.func @softplus_l1_attention(%q: tensor<?x12x?x64xbf16>,
                                 %k: tensor<?x12x?x64xbf16>,
                                 %v: tensor<?x12x?x64xbf16>)
    -> tensor<?x12x?x64xbf16> {
  %o = attn.attention %q, %k, %v
      {mask = #attn.causal, normalization = #attn.normalization<l1>}
      : tensor<?x12x?x64xbf16>, tensor<?x12x?x64xbf16>,
        tensor<?x12x?x64xbf16> -> tensor<?x12x?x64xbf16>
    l1_map {
    ^bb0(%s: f32):
      %zero = arith.constant 0.0 : f32
      %pos = arith.maximumf %s, %zero : f32
      %abs = math.absf %s : f32
      %neg = arith.negf %abs : f32
      %e = math.exp %neg : f32
      %l = math.log1p %e : f32
      %r = arith.addf %pos, %l : f32
      attn.yield %r : f32
    }
  return %o : tensor<?x12x?x64xbf16>
}
