// 2D dilated neighborhood attention on a 32x32 token grid: each query sees
// the 7x7 keys of its own dilation group (dilation 2 on both axes) nearest
// to it, the window being shifted inward at the borders; non-causal.
// Paper: "Faster Neighborhood Attention: Reducing the O(n^2) Cost of Self
// Attention at the Threadblock Level" (Hassani et al., 2024); dilation from
// "Dilated Neighborhood Attention Transformer" (Hassani and Shi, 2022).
// Choices: NATTEN's border handling (clamped windows, not zero padding);
// tokens row-major, static length 32 * 32 = 1024; 8 heads of dim 64.
// attn-run: --sizes b=1
func.func @neighborhood_2d(%q: tensor<?x8x1024x64xf16>,
                           %k: tensor<?x8x1024x64xf16>,
                           %v: tensor<?x8x1024x64xf16>)
    -> tensor<?x8x1024x64xf16> {
  %o = attn.attention %q, %k, %v
      {mask = #attn.neighborhood<grid = [32, 32], kernel = [7, 7],
                                 dilation = [2, 2]>}
      : tensor<?x8x1024x64xf16>, tensor<?x8x1024x64xf16>,
        tensor<?x8x1024x64xf16> -> tensor<?x8x1024x64xf16>
  return %o : tensor<?x8x1024x64xf16>
}
