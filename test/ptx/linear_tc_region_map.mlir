// PTX check (ctest ptx/...): the tensor-core chunk kernel with a
// feature-map region (SiLU, x / (1 + e^-x), applied to each loaded Q and K
// tile); bf16, Dk = Dv = 128, no gate. It must assemble without spills.
func.func @e(%q: tensor<?x16x?x128xbf16>, %k: tensor<?x16x?x128xbf16>, %v: tensor<?x16x?x128xbf16>) -> tensor<?x16x?x128xbf16> {
  %o = attn.linear_attention %q, %k, %v {causal, chunk_size = 64}
      : tensor<?x16x?x128xbf16>, tensor<?x16x?x128xbf16>, tensor<?x16x?x128xbf16> -> tensor<?x16x?x128xbf16>
    feature_map {
    ^bb0(%x: f32):
      %c = arith.constant 1.0 : f32
      %s = arith.negf %x : f32
      %e = math.exp %s : f32
      %d = arith.addf %c, %e : f32
      %y = arith.divf %x, %d : f32
      attn.yield %y : f32
    }
  return %o : tensor<?x16x?x128xbf16>
}
