// PTX check (ctest ptx/...): the tensor-core chunk kernel with a named
// elementwise feature map (elu + 1, a map over each loaded Q and K tile)
// and a gate per token (bf16, Dk = Dv = 128); it must assemble without
// spills.
func.func @e(%q: tensor<?x16x?x128xbf16>, %k: tensor<?x16x?x128xbf16>, %v: tensor<?x16x?x128xbf16>, %g: tensor<?x16x?xf32>) -> tensor<?x16x?x128xbf16> {
  %o = attn.linear_attention %q, %k, %v gate(%g : tensor<?x16x?xf32>) {causal, chunk_size = 64, gate = #attn.gate<per_token>, feature_map = #attn.feature_map<elu_plus_one>}
      : tensor<?x16x?x128xbf16>, tensor<?x16x?x128xbf16>, tensor<?x16x?x128xbf16> -> tensor<?x16x?x128xbf16>
  return %o : tensor<?x16x?x128xbf16>
}
