// PTX check (ctest ptx/...): GLA with bf16 gates per key feature compiles
// (the tensor-core kernel stages gates per key feature as f32, so these take
// the chunk loops) and assembles without spills.
func.func @e(%q: tensor<?x16x?x128xbf16>, %k: tensor<?x16x?x128xbf16>, %v: tensor<?x16x?x128xbf16>, %g: tensor<?x16x?x128xbf16>) -> tensor<?x16x?x128xbf16> {
  %o = attn.linear_attention %q, %k, %v gate(%g : tensor<?x16x?x128xbf16>) {causal, chunk_size = 64, gate = #attn.gate<per_key>}
      : tensor<?x16x?x128xbf16>, tensor<?x16x?x128xbf16>, tensor<?x16x?x128xbf16> -> tensor<?x16x?x128xbf16>
  return %o : tensor<?x16x?x128xbf16>
}
