// PTX check (ctest ptx/...): the tensor-core chunk kernel of the delta rule
// with a gate per head at Dk = 64 (f16), which takes 64 value columns a
// block on every chip (getTensorCoreValueColumns); it must assemble
// without spills.
func.func @e(%q: tensor<?x8x?x64xf16>, %k: tensor<?x8x?x64xf16>, %v: tensor<?x8x?x128xf16>, %g: tensor<8xf32>, %beta: tensor<?x8x?xf16>) -> tensor<?x8x?x128xf16> {
  %o = attn.linear_attention %q, %k, %v gate(%g : tensor<8xf32>) beta(%beta : tensor<?x8x?xf16>) {causal, chunk_size = 64, gate = #attn.gate<per_head>, update = #attn.update<delta>}
      : tensor<?x8x?x64xf16>, tensor<?x8x?x64xf16>, tensor<?x8x?x128xf16> -> tensor<?x8x?x128xf16>
  return %o : tensor<?x8x?x128xf16>
}
