// Mixed-modality mask given by a mask_mod region: causal attention over the
// sequence, except that tokens of one image attend to each other
// bidirectionally. The captured table ids[b, t] holds 0 for text tokens and
// the image number (1, 2, ...) for image patch tokens; key j is kept for
// query i when j <= i, or when i and j lie in the same image.
// Paper: "Transfusion: Predict the Next Token and Diffuse Images with One
// Multi-Modal Model" (Zhou et al., 2024); 32 heads of dim 128.
// Choices: no named mask (the op keeps mask AND mask_mod, and this pattern
// is an OR of causal with the image blocks); self-attention, Nq == Nk.
// attn-run: --sizes b=2,n=77,capture0=2x77
// attn-run: --sizes b=2,nq=70,nk=45,capture0=2x70
func.func @transfusion_mask_mod(%q: tensor<?x32x?x128xbf16>,
                                %k: tensor<?x32x?x128xbf16>,
                                %v: tensor<?x32x?x128xbf16>,
                                %ids: tensor<?x?xi32>)
    -> tensor<?x32x?x128xbf16> {
  %o = attn.attention %q, %k, %v captures(%ids : tensor<?x?xi32>)
      : tensor<?x32x?x128xbf16>, tensor<?x32x?x128xbf16>,
        tensor<?x32x?x128xbf16> -> tensor<?x32x?x128xbf16>
    mask_mod {
    ^bb0(%b: index, %h: index, %i: index, %j: index, %t: tensor<?x?xi32>):
      %causal = arith.cmpi ule, %j, %i : index
      %img_i = tensor.extract %t[%b, %i] : tensor<?x?xi32>
      %img_j = tensor.extract %t[%b, %j] : tensor<?x?xi32>
      %text = arith.constant 0 : i32
      %is_img = arith.cmpi ne, %img_i, %text : i32
      %same = arith.cmpi eq, %img_i, %img_j : i32
      %in_img = arith.andi %is_img, %same : i1
      %keep = arith.ori %causal, %in_img : i1
      attn.yield %keep : i1
    }
  return %o : tensor<?x32x?x128xbf16>
}
