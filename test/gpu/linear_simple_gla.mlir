// A chunk_simple_gla-style spec (bf16, a log gate per token, Dk = Dv =
// 128, chunks of 64) that the tensor-core chunk kernel runs: checked on
// CUDA against the CPU reference by `attn-run --backend=cuda --check`.
func.func @simple_gla(%q: tensor<?x16x?x128xbf16>, %k: tensor<?x16x?x128xbf16>,
                      %v: tensor<?x16x?x128xbf16>, %g: tensor<?x16x?xf32>)
    -> tensor<?x16x?x128xbf16> {
  %o = attn.linear_attention %q, %k, %v gate(%g : tensor<?x16x?xf32>)
      {causal, gate = #attn.gate<per_token>, chunk_size = 64}
      : tensor<?x16x?x128xbf16>, tensor<?x16x?x128xbf16>, tensor<?x16x?x128xbf16>
      -> tensor<?x16x?x128xbf16>
  return %o : tensor<?x16x?x128xbf16>
}
