// Causal softmax attention with ALiBi: a per-head linear distance penalty
// m_h * (j - i) (<= 0 for visible keys) is added to each scaled score; the
// 16 slopes m_h come in as a captured tensor.
// Paper: "Train Short, Test Long: Attention with Linear Biases Enables Input
// Length Extrapolation" (Press et al., 2022).
// Choices: slopes are the paper's geometric sequence m_h = 2^(-8(h+1)/H)
// for H = 16, computed by the caller. The bias uses j - i without the
// Nk - Nq alignment shift; a per-row constant cancels in the softmax, so the
// result is exact also when Nq != Nk (decoding with a KV cache).
func.func @alibi(%q: tensor<?x16x?x128xbf16>, %k: tensor<?x16x?x128xbf16>,
                 %v: tensor<?x16x?x128xbf16>, %slopes: tensor<16xf32>)
    -> tensor<?x16x?x128xbf16> {
  %o = attn.attention %q, %k, %v captures(%slopes : tensor<16xf32>)
      {mask = #attn.causal}
      : tensor<?x16x?x128xbf16>, tensor<?x16x?x128xbf16>,
        tensor<?x16x?x128xbf16> -> tensor<?x16x?x128xbf16>
    score_mod {
    ^bb0(%s: f32, %b: index, %h: index, %i: index, %j: index,
         %sl: tensor<16xf32>):
      %m = tensor.extract %sl[%h] : tensor<16xf32>
      %ii = arith.index_cast %i : index to i64
      %jj = arith.index_cast %j : index to i64
      %d = arith.subi %jj, %ii : i64
      %df = arith.sitofp %d : i64 to f32
      %bias = arith.mulf %m, %df : f32
      %r = arith.addf %s, %bias : f32
      attn.yield %r : f32
    }
  return %o : tensor<?x16x?x128xbf16>
}
