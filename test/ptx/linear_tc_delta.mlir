// PTX check (ctest ptx/...): the tensor-core chunk kernel of the delta rule
// without a gate (bf16, Dk = Dv = 128), the shape of fla's
// chunk_delta_rule; it takes 64 value columns a block for sm_90 and 32 for
// sm_80 (getTensorCoreValueColumns) and must assemble without spills.
func.func @e(%q: tensor<?x16x?x128xbf16>, %k: tensor<?x16x?x128xbf16>, %v: tensor<?x16x?x128xbf16>, %beta: tensor<?x16x?xbf16>) -> tensor<?x16x?x128xbf16> {
  %o = attn.linear_attention %q, %k, %v beta(%beta : tensor<?x16x?xbf16>) {causal, chunk_size = 64, update = #attn.update<delta>}
      : tensor<?x16x?x128xbf16>, tensor<?x16x?x128xbf16>, tensor<?x16x?x128xbf16> -> tensor<?x16x?x128xbf16>
  return %o : tensor<?x16x?x128xbf16>
}
