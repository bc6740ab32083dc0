// PTX check (ctest ptx/...): a shape of the tensor-core chunk kernel of
// linear attention that no example has; it must assemble without spills.
func.func @b(%q: tensor<?x8x?x128xbf16>, %k: tensor<?x8x?x128xbf16>, %v: tensor<?x8x?x192xbf16> , %g: tensor<8xf32>) -> (tensor<?x8x?x192xbf16> ) {
  %o  = attn.linear_attention %q, %k, %v gate(%g : tensor<8xf32>) {causal, chunk_size = 64 , gate = #attn.gate<per_head>}
      : tensor<?x8x?x128xbf16>, tensor<?x8x?x128xbf16>, tensor<?x8x?x192xbf16> -> tensor<?x8x?x192xbf16> 
  return %o  : tensor<?x8x?x192xbf16> 
}
