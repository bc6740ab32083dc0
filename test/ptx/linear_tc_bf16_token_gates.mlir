// PTX check (ctest ptx/...): the tensor-core chunk kernel with bf16 gates
// per token, which it reads and widens as it prefetches the next chunk; it
// must assemble without spills.
func.func @simple_gla(%q: tensor<?x16x?x128xbf16>, %k: tensor<?x16x?x128xbf16>,
                      %v: tensor<?x16x?x128xbf16>, %g: tensor<?x16x?xbf16>)
    -> tensor<?x16x?x128xbf16> {
  %o = attn.linear_attention %q, %k, %v gate(%g : tensor<?x16x?xbf16>)
      {causal, gate = #attn.gate<per_token>, chunk_size = 64}
      : tensor<?x16x?x128xbf16>, tensor<?x16x?x128xbf16>, tensor<?x16x?x128xbf16>
      -> tensor<?x16x?x128xbf16>
  return %o : tensor<?x16x?x128xbf16>
}
