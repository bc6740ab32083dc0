// ReLU attention for a vision transformer: weights p_ij = relu(s_ij) / L with
// L the sequence length, no row normalization, no mask.
// Paper: "Replacing softmax with ReLU in Vision Transformers" (Wortsman et
// al., 2023); ViT-B/16 shapes (12 heads of dim 64).
// Choices: L = 196 tokens (224x224 image, 16x16 patches, no class token),
// a static sequence length, so the 1/L factor is folded into the scale:
// relu(s)/L = relu(s/L), scale = 1 / (sqrt(64) * 196) = 1/1568.
// attn-run: --sizes b=1
func.func @relu_attention(%q: tensor<?x12x196x64xbf16>,
                          %k: tensor<?x12x196x64xbf16>,
                          %v: tensor<?x12x196x64xbf16>)
    -> tensor<?x12x196x64xbf16> {
  %o = attn.attention %q, %k, %v
      {normalization = #attn.normalization<relu>, scale = 6.37755089e-04 : f32}
      : tensor<?x12x196x64xbf16>, tensor<?x12x196x64xbf16>,
        tensor<?x12x196x64xbf16> -> tensor<?x12x196x64xbf16>
  return %o : tensor<?x12x196x64xbf16>
}
