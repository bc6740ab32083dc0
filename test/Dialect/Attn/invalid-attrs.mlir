// RUN: attn-opt %s -split-input-file -verify-diagnostics

// Malformed named masks and enums: each is rejected where it is written.

// expected-error @+1 {{sliding window sizes must be non-negative, got left = -1 and right = 0}}
func.func @negative_window() attributes {mask = #attn.sliding_window<left = -1>} {
  return
}

// -----

// expected-error @+1 {{sink count must be positive, got 0}}
func.func @zero_sinks() attributes {mask = #attn.sinks<count = 0>} {
  return
}

// -----

// expected-error @+1 {{block_diagonal size must be positive, got 0}}
func.func @zero_block() attributes {mask = #attn.block_diagonal<size = 0>} {
  return
}

// -----

// expected-error @+1 {{prefix_lm prefix must be positive, got 0}}
func.func @zero_prefix() attributes {mask = #attn.prefix_lm<prefix = 0>} {
  return
}

// -----

// expected-error @+1 {{strided_shard stride and block must be positive, got stride = 0 and block = 1}}
func.func @zero_stride() attributes {mask = #attn.strided_shard<stride = 0>} {
  return
}

// -----

// expected-error @+1 {{per_head index 1 of head 1 is out of range; there are 1 patterns}}
func.func @per_head_index() attributes {mask = #attn.per_head<[#attn.causal], heads = [0, 1]>} {
  return
}

// -----

// expected-error @+1 {{per_head accepts only named masks, got 3 : i64}}
func.func @per_head_not_mask() attributes {mask = #attn.per_head<[#attn.causal, 3 : i64], heads = [0, 1]>} {
  return
}

// -----

// expected-error @+1 {{#attn.and accepts only named masks, got "x"}}
func.func @and_not_mask() attributes {mask = #attn.and<[#attn.causal, "x"]>} {
  return
}

// -----

// expected-error @+1 {{neighborhood grid must have 1, 2 or 3 axes, got 4}}
func.func @neighborhood_rank() attributes {mask = #attn.neighborhood<grid = [2, 2, 2, 2], kernel = [1, 1, 1, 1]>} {
  return
}

// -----

// expected-error @+1 {{neighborhood kernel must have 2 entries (one per grid axis), got 1}}
func.func @neighborhood_kernel_rank() attributes {mask = #attn.neighborhood<grid = [8, 8], kernel = [3]>} {
  return
}

// -----

// expected-error @+1 {{neighborhood dilation must have 2 entries (one per grid axis), got 1}}
func.func @neighborhood_dilation_rank() attributes {mask = #attn.neighborhood<grid = [8, 8], kernel = [3, 3], dilation = [2]>} {
  return
}

// -----

// expected-error @+1 {{neighborhood kernel * dilation (10) exceeds grid extent (8) on axis 1}}
func.func @neighborhood_too_wide() attributes {mask = #attn.neighborhood<grid = [8, 8], kernel = [3, 5], dilation = [1, 2]>} {
  return
}

// -----

// expected-error @+1 {{neighborhood grid, kernel and dilation must be positive on axis 0}}
func.func @neighborhood_nonpositive() attributes {mask = #attn.neighborhood<grid = [8], kernel = [0]>} {
  return
}

// -----

// expected-error @+1 {{neighborhood causal_axes must be distinct axes in [0, 2), got 2}}
func.func @neighborhood_causal_axis() attributes {mask = #attn.neighborhood<grid = [8, 8], kernel = [3, 3], causal_axes = [2]>} {
  return
}

// -----

// expected-error @+1 {{neighborhood causal_axes must be distinct axes in [0, 2), got 0}}
func.func @neighborhood_duplicate_axis() attributes {mask = #attn.neighborhood<grid = [8, 8], kernel = [3, 3], causal_axes = [0, 0]>} {
  return
}

// -----

// expected-error @+1 {{unknown neighborhood parameter 'stride'; expected grid, kernel, dilation or causal_axes}}
func.func @neighborhood_unknown() attributes {mask = #attn.neighborhood<grid = [8], kernel = [3], stride = [2]>} {
  return
}

// -----

// expected-error @+1 {{neighborhood parameter 'grid' given twice}}
func.func @neighborhood_twice() attributes {mask = #attn.neighborhood<grid = [8], grid = [8], kernel = [3]>} {
  return
}

// -----

// expected-error @+1 {{neighborhood needs 'grid' and 'kernel'}}
func.func @neighborhood_missing_kernel() attributes {mask = #attn.neighborhood<grid = [8]>} {
  return
}

// -----

// expected-error @+1 {{unknown attribute `diagonal` in dialect `attn`}}
func.func @unknown_mask() attributes {mask = #attn.diagonal} {
  return
}

// -----

// expected-error @+2 {{expected ::mlir::attn::Normalization to be one of: softmax, sigmoid, l1, relu}}
// expected-error @+1 {{failed to parse Attn_NormalizationAttr parameter 'value' which is to be a `::mlir::attn::Normalization`}}
func.func @unknown_normalization() attributes {mask = #attn.normalization<softmax2>} {
  return
}

// -----

// Mask extents are bounded so that no backend's index arithmetic wraps.

// expected-error @+1 {{causal offset must lie within [-1073741824, 1073741824] (2^30 tokens), got 9223372036854775807}}
func.func @huge_causal_offset() attributes {mask = #attn.causal<offset = 9223372036854775807>} {
  return
}

// -----

// expected-error @+1 {{causal offset must lie within [-1073741824, 1073741824] (2^30 tokens), got -1073741825}}
func.func @huge_negative_causal_offset() attributes {mask = #attn.causal<offset = -1073741825>} {
  return
}

// -----

// expected-error @+1 {{sliding window left must lie within [-1073741824, 1073741824] (2^30 tokens), got 9223372036854775807}}
func.func @huge_window() attributes {mask = #attn.sliding_window<left = 9223372036854775807, right = 9223372036854775807>} {
  return
}

// -----

// expected-error @+1 {{sliding window right must lie within [-1073741824, 1073741824] (2^30 tokens), got 1073741825}}
func.func @huge_window_right() attributes {mask = #attn.sliding_window<left = 4, right = 1073741825>} {
  return
}

// -----

// expected-error @+1 {{sink count must lie within [-1073741824, 1073741824] (2^30 tokens), got 4611686018427387904}}
func.func @huge_sinks() attributes {mask = #attn.sinks<count = 4611686018427387904>} {
  return
}

// -----

// expected-error @+1 {{block_diagonal size must lie within}}
func.func @huge_block() attributes {mask = #attn.block_diagonal<size = 2147483648>} {
  return
}

// -----

// expected-error @+1 {{prefix_lm prefix must lie within}}
func.func @huge_prefix() attributes {mask = #attn.prefix_lm<prefix = 2147483648>} {
  return
}

// -----

// expected-error @+1 {{strided_shard block must lie within}}
func.func @huge_shard() attributes {mask = #attn.strided_shard<stride = 2, block = 2147483648>} {
  return
}

// -----

// expected-error @+1 {{neighborhood grid holds more than 1073741824 (2^30) tokens}}
func.func @huge_grid() attributes {mask = #attn.neighborhood<grid = [65536, 65536], kernel = [3, 3]>} {
  return
}
