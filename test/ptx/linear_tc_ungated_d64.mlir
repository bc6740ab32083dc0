// PTX check (ctest ptx/...): a shape of the tensor-core chunk kernel of
// linear attention that no example has; it must assemble without spills.
func.func @a(%q: tensor<?x8x?x64xbf16>, %k: tensor<?x8x?x64xbf16>, %v: tensor<?x8x?x64xbf16> ) -> (tensor<?x8x?x64xbf16> ) {
  %o  = attn.linear_attention %q, %k, %v  {causal, chunk_size = 64 }
      : tensor<?x8x?x64xbf16>, tensor<?x8x?x64xbf16>, tensor<?x8x?x64xbf16> -> tensor<?x8x?x64xbf16> 
  return %o  : tensor<?x8x?x64xbf16> 
}
