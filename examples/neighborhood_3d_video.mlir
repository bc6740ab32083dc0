// 3D neighborhood attention over video tokens on an 8x16x16 (time, height,
// width) grid: a 7x7 spatial neighborhood in each of the current and 2
// previous frames (causal along time, kernel 3), non-causal in space.
// Paper: "Faster Neighborhood Attention: Reducing the O(n^2) Cost of Self
// Attention at the Threadblock Level" (Hassani et al., 2024), 3D and
// causal-axis neighborhoods.
// Choices: time is axis 0 (row-major: frame-major tokens); no dilation;
// sequence length left dynamic (it must be 8 * 16 * 16 = 2048 at run time);
// 16 heads of dim 64.
// attn-run: --sizes b=1,n=2048
func.func @neighborhood_3d_video(%q: tensor<?x16x?x64xbf16>,
                                 %k: tensor<?x16x?x64xbf16>,
                                 %v: tensor<?x16x?x64xbf16>)
    -> tensor<?x16x?x64xbf16> {
  %o = attn.attention %q, %k, %v
      {mask = #attn.neighborhood<grid = [8, 16, 16], kernel = [3, 7, 7],
                                 causal_axes = [0]>}
      : tensor<?x16x?x64xbf16>, tensor<?x16x?x64xbf16>,
        tensor<?x16x?x64xbf16> -> tensor<?x16x?x64xbf16>
  return %o : tensor<?x16x?x64xbf16>
}
