// PTX check (ctest ptx/...): a shape of the tensor-core chunk kernel of
// linear attention that no example has; it must assemble without spills.
func.func @e(%q: tensor<?x8x?x128xf16>, %k: tensor<?x8x?x128xf16>, %v: tensor<?x8x?x128xf16>, %g: tensor<?x8x?xf32>, %s0: tensor<?x8x128x128xf32>) -> (tensor<?x8x?x128xf16>, tensor<?x8x128x128xf32>) {
  %o, %s = attn.linear_attention %q, %k, %v gate(%g : tensor<?x8x?xf32>) initial_state(%s0 : tensor<?x8x128x128xf32>) {causal, chunk_size = 64, gate = #attn.gate<per_token>}
      : tensor<?x8x?x128xf16>, tensor<?x8x?x128xf16>, tensor<?x8x?x128xf16> -> tensor<?x8x?x128xf16>, tensor<?x8x128x128xf32>
  return %o, %s : tensor<?x8x?x128xf16>, tensor<?x8x128x128xf32>
}
