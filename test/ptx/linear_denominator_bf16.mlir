// PTX check (ctest ptx/...): causal linear attention with the denominator
// normalization in bf16 compiles (its one-column state keeps it off the
// tensor-core kernel) and assembles without spills.
func.func @e(%q: tensor<?x16x?x128xbf16>, %k: tensor<?x16x?x128xbf16>, %v: tensor<?x16x?x128xbf16>, %g: tensor<?x16x?xf32>) -> tensor<?x16x?x128xbf16> {
  %o = attn.linear_attention %q, %k, %v gate(%g : tensor<?x16x?xf32>) {causal, chunk_size = 64, gate = #attn.gate<per_token>, normalization = #attn.linear_normalization<denominator>} : tensor<?x16x?x128xbf16>, tensor<?x16x?x128xbf16>, tensor<?x16x?x128xbf16> -> tensor<?x16x?x128xbf16>
  return %o : tensor<?x16x?x128xbf16>
}
