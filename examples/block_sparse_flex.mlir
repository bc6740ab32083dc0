// Run-time block sparsity in the manner of FlexAttention's BlockMask, as
// used by MInference 1.0 (block-sparse heads) and SeerAttention: for every
// (batch, head, query block of 64) a list of partial key blocks of 64, where
// the causal mask applies, and a list of full key blocks, where no mask
// applies. Unlisted key blocks are skipped. The lists are produced at run
// time (pooled block scores, top-k); the kernel only consumes them.
// Paper: "MInference 1.0: Accelerating Pre-filling for Long-Context LLMs via
// Dynamic Sparse Attention" (Jiang et al., 2024); 32 query heads, 8 KV heads,
// head dim 128. Choice: FlexAttention's semantics for partial and full
// blocks; block size 64 x 64.
func.func @block_sparse_flex(%q: tensor<?x32x?x128xbf16>,
                             %k: tensor<?x8x?x128xbf16>,
                             %v: tensor<?x8x?x128xbf16>,
                             %kv_num_blocks: tensor<?x32x?xi32>,
                             %kv_indices: tensor<?x32x?x?xi32>,
                             %full_kv_num_blocks: tensor<?x32x?xi32>,
                             %full_kv_indices: tensor<?x32x?x?xi32>)
    -> tensor<?x32x?x128xbf16> {
  %o = attn.attention %q, %k, %v
      block_mask(%kv_num_blocks, %kv_indices, %full_kv_num_blocks,
                 %full_kv_indices : tensor<?x32x?xi32>, tensor<?x32x?x?xi32>,
                 tensor<?x32x?xi32>, tensor<?x32x?x?xi32>)
      {block_size = array<i64: 64, 64>, mask = #attn.causal}
      : tensor<?x32x?x128xbf16>, tensor<?x8x?x128xbf16>,
        tensor<?x8x?x128xbf16> -> tensor<?x32x?x128xbf16>
  return %o : tensor<?x32x?x128xbf16>
}
