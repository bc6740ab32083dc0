// PTX check (ctest ptx/...): the tensor-core chunk kernel of GLA, a gate per
// key feature (bf16, Dk = Dv = 128), the shape of fla's chunk_gla; it must
// assemble without spills.
func.func @e(%q: tensor<?x16x?x128xbf16>, %k: tensor<?x16x?x128xbf16>, %v: tensor<?x16x?x128xbf16>, %g: tensor<?x16x?x128xf32>) -> tensor<?x16x?x128xbf16> {
  %o = attn.linear_attention %q, %k, %v gate(%g : tensor<?x16x?x128xf32>) {causal, chunk_size = 64, gate = #attn.gate<per_key>}
      : tensor<?x16x?x128xbf16>, tensor<?x16x?x128xbf16>, tensor<?x16x?x128xbf16> -> tensor<?x16x?x128xbf16>
  return %o : tensor<?x16x?x128xbf16>
}
