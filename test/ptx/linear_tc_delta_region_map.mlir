// PTX check (ctest ptx/...): the tensor-core chunk kernel of the delta rule
// with a feature-map region (squared ReLU, applied to each loaded Q and K
// tile); bf16, Dk = Dv = 128. It must assemble without spills. (SiLU,
// x / (1 + e^-x), spills 136 bytes here on sm_90a: its division takes
// registers the delta rule's chain keeps busy; the additive kernel takes
// it without spills, test/ptx/linear_tc_region_map.mlir.)
func.func @e(%q: tensor<?x16x?x128xbf16>, %k: tensor<?x16x?x128xbf16>, %v: tensor<?x16x?x128xbf16>, %beta: tensor<?x16x?xbf16>) -> tensor<?x16x?x128xbf16> {
  %o = attn.linear_attention %q, %k, %v beta(%beta : tensor<?x16x?xbf16>) {causal, update = #attn.update<delta>, chunk_size = 64}
      : tensor<?x16x?x128xbf16>, tensor<?x16x?x128xbf16>, tensor<?x16x?x128xbf16> -> tensor<?x16x?x128xbf16>
    feature_map {
    ^bb0(%x: f32):
      %c = arith.constant 0.0 : f32
      %r = arith.maximumf %x, %c : f32
      %y = arith.mulf %r, %r : f32
      attn.yield %y : f32
    }
  return %o : tensor<?x16x?x128xbf16>
}
