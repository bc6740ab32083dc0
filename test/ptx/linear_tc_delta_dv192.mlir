// PTX check (ctest ptx/...): the tensor-core chunk kernel of the delta rule
// with a gate per token at Dv = 192 (three 64-column splits), bf16,
// Dk = 128. Its transform blocks compute U = T V by 64 value columns at a
// time: one [64, 192] accumulator spilled 8-28 bytes. It must assemble
// without spills.
func.func @e(%q: tensor<?x4x?x128xbf16>, %k: tensor<?x4x?x128xbf16>, %v: tensor<?x4x?x192xbf16>, %g: tensor<?x4x?xf32>, %beta: tensor<?x4x?xbf16>) -> tensor<?x4x?x192xbf16> {
  %o = attn.linear_attention %q, %k, %v gate(%g : tensor<?x4x?xf32>) beta(%beta : tensor<?x4x?xbf16>) {causal, chunk_size = 64, gate = #attn.gate<per_token>, update = #attn.update<delta>}
      : tensor<?x4x?x128xbf16>, tensor<?x4x?x128xbf16>, tensor<?x4x?x192xbf16> -> tensor<?x4x?x192xbf16>
  return %o : tensor<?x4x?x192xbf16>
}
