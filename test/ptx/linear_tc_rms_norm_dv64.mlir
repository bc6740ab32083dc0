// PTX check (ctest ptx/...): a shape of the tensor-core chunk kernel of
// linear attention that no example has; it must assemble without spills.
func.func @d(%q: tensor<?x8x?x128xbf16>, %k: tensor<?x8x?x128xbf16>, %v: tensor<?x8x?x64xbf16> , %g: tensor<?x8x?xf32>) -> (tensor<?x8x?x64xbf16> ) {
  %o  = attn.linear_attention %q, %k, %v gate(%g : tensor<?x8x?xf32>) {causal, chunk_size = 64 , gate = #attn.gate<per_token>, normalization = #attn.linear_normalization<rms_norm>}
      : tensor<?x8x?x128xbf16>, tensor<?x8x?x128xbf16>, tensor<?x8x?x64xbf16> -> tensor<?x8x?x64xbf16> 
  return %o  : tensor<?x8x?x64xbf16> 
}
