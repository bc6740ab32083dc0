// RUN: attn-opt -split-input-file -verify-diagnostics %s

// expected-error @+1 {{a tile has 1 or 2 dimensions, got 3}}
func.func private @rank_three(!attn_tile.tile<2x2x2xf32>)

// -----

// expected-error @+1 {{tile elements must be f32, f16 or bf16, got 'i32'}}
func.func private @integer_elements(!attn_tile.tile<64xi32>)

// -----

// expected-error @+1 {{an #attn_tile.mma tile's rows must be a multiple of 16 per row of warps and its columns of 8 per column of warps}}
func.func private @mma_misfit(!attn_tile.tile<32x64xf32, #attn_tile.mma<warps = [4, 1]>>)

// -----

// expected-error @+1 {{a block has at most 32 warps, got 64}}
func.func private @too_many_warps(!attn_tile.tile<1024x64xf32, #attn_tile.mma<warps = [8, 8]>>)

// -----

// expected-error @+1 {{an #attn_tile.operand tile holds f16 or bf16}}
func.func private @f32_operand(!attn_tile.tile<64x64xf32, #attn_tile.operand<index = 0, parent = #attn_tile.mma<warps = [4, 1]>>>)

// -----

func.func @splat_type(%v: f16) {
  // expected-error @+1 {{'attn_tile.splat' op value type 'f16' differs from the tile's element type 'f32'}}
  %t = attn_tile.splat %v : f16 -> !attn_tile.tile<64xf32>
  return
}

// -----

func.func @load_indices(%m: memref<?x16x?x128xbf16>, %i: index) {
  // expected-error @+1 {{'attn_tile.load' op expected 4 indices, one per memory dimension, got 2}}
  %t = attn_tile.load %m[%i, %i] : memref<?x16x?x128xbf16> -> !attn_tile.tile<64x128xbf16>
  return
}

// -----

func.func @load_columns(%m: memref<?x16x?x64xbf16>, %i: index) {
  // expected-error @+1 {{'attn_tile.load' op tile of 128 columns does not fit memory rows of 64}}
  %t = attn_tile.load %m[%i, %i, %i, %i] : memref<?x16x?x64xbf16> -> !attn_tile.tile<64x128xbf16>
  return
}

// -----

func.func @store_narrowing(%t: !attn_tile.tile<64x128xbf16>, %m: memref<?x16x?x128xf16>, %i: index) {
  // expected-error @+1 {{'attn_tile.store' op tile element type 'bf16' must be the memory's ('f16') or f32}}
  attn_tile.store %t, %m[%i, %i, %i, %i] : !attn_tile.tile<64x128xbf16> -> memref<?x16x?x128xf16>
  return
}

// -----

func.func @matmul_contraction(%a: !attn_tile.tile<64x128xbf16>, %b: !attn_tile.tile<64x64xbf16>,
                              %c: !attn_tile.tile<64x64xf32>) {
  // expected-error @+1 {{'attn_tile.matmul' op contraction sizes differ: 128 and 64}}
  %r = attn_tile.matmul %a, %b, %c : !attn_tile.tile<64x128xbf16>, !attn_tile.tile<64x64xbf16>, !attn_tile.tile<64x64xf32>
  return
}

// -----

func.func @matmul_accumulator(%a: !attn_tile.tile<64x128xbf16>, %c: !attn_tile.tile<64x32xf32>) {
  // expected-error @+1 {{'attn_tile.matmul' op expected an accumulator of 64x64, got 64x32}}
  %r = attn_tile.matmul %a, %a, %c {transpose_rhs} : !attn_tile.tile<64x128xbf16>, !attn_tile.tile<64x128xbf16>, !attn_tile.tile<64x32xf32>
  return
}

// -----

func.func @map_broadcast_size(%a: !attn_tile.tile<64x32xf32>, %p: !attn_tile.tile<64xf32>) {
  // expected-error @+1 {{'attn_tile.map' op broadcast input 1 must be a 1-D tile of 32 elements}}
  %r = attn_tile.map %a, %p {broadcast = array<i64: -1, 1>}
      : (!attn_tile.tile<64x32xf32>, !attn_tile.tile<64xf32>) -> !attn_tile.tile<64x32xf32> {
  ^bb0(%i: index, %j: index, %x: f32, %y: f32):
    attn_tile.yield %x : f32
  }
  return
}

// -----

func.func @map_layout(%a: !attn_tile.tile<64x64xf32, #attn_tile.mma<warps = [4, 1]>>) {
  // expected-error @+1 {{'attn_tile.map' op input 0 must have the result's shape and layout}}
  %r = attn_tile.map %a : (!attn_tile.tile<64x64xf32, #attn_tile.mma<warps = [4, 1]>>) -> !attn_tile.tile<64x64xf32> {
  ^bb0(%i: index, %j: index, %x: f32):
    attn_tile.yield %x : f32
  }
  return
}

// -----

func.func @map_yield_type(%a: !attn_tile.tile<64x64xf32>) {
  // expected-error @+1 {{'attn_tile.map' op yields 'f32' for elements of type 'bf16'}}
  %r = attn_tile.map %a : (!attn_tile.tile<64x64xf32>) -> !attn_tile.tile<64x64xbf16> {
  ^bb0(%i: index, %j: index, %x: f32):
    attn_tile.yield %x : f32
  }
  return
}

// -----

func.func @map_arguments(%a: !attn_tile.tile<64x64xf32>) {
  // expected-error @+1 {{'attn_tile.map' op body must take 2 index arguments and one element per input}}
  %r = attn_tile.map %a : (!attn_tile.tile<64x64xf32>) -> !attn_tile.tile<64x64xf32> {
  ^bb0(%x: f32):
    attn_tile.yield %x : f32
  }
  return
}

// -----

func.func @reduce_layout(%a: !attn_tile.tile<64x64xf32, #attn_tile.mma<warps = [4, 1]>>) {
  // expected-error @+1 {{'attn_tile.reduce' op result must have the layout #attn_tile.slice<dim = 1, parent = #attn_tile.mma<warps = [4, 1]>>}}
  %r = attn_tile.reduce <add> %a : !attn_tile.tile<64x64xf32, #attn_tile.mma<warps = [4, 1]>> -> !attn_tile.tile<64xf32>
  return
}

// -----

func.func @decay_rows(%p: !attn_tile.tile<32xf32>) {
  // expected-error @+1 {{'attn_tile.decay_mask' op row logs must be a 1-D tile of 64 elements laid out along the rows}}
  %d = attn_tile.decay_mask %p, %p : (!attn_tile.tile<32xf32>, !attn_tile.tile<32xf32>) -> !attn_tile.tile<64x32xf32>
  return
}

// -----

func.func @ut_square(%a: !attn_tile.tile<64x32xf32>) {
  // expected-error @+1 {{'attn_tile.ut_solve' op expects a square 2-D tile, got '!attn_tile.tile<64x32xf32>'}}
  %t = attn_tile.ut_solve %a : !attn_tile.tile<64x32xf32>
  return
}

// -----

func.func @state_shape(%s: !attn_tile.tile<64x64xf32>, %k: !attn_tile.tile<64x128xbf16>,
                       %v: !attn_tile.tile<64x64xbf16>) {
  // expected-error @+1 {{'attn_tile.state_update' op expected a state of 128x64, got 64x64}}
  %r = attn_tile.state_update %s, %k, %v : !attn_tile.tile<64x64xf32>, !attn_tile.tile<64x128xbf16>, !attn_tile.tile<64x64xbf16>
  return
}

// -----

func.func @state_log_decay(%s: !attn_tile.tile<128x64xf32>, %k: !attn_tile.tile<64x128xbf16>,
                           %v: !attn_tile.tile<64x64xbf16>, %p: !attn_tile.tile<128xf32>) {
  // expected-error @+1 {{'attn_tile.state_update' op log_decay must have one entry per token (64) or per token and key feature (64x128)}}
  %r = attn_tile.state_update %s, %k, %v log_decay %p : !attn_tile.tile<128x64xf32>, !attn_tile.tile<64x128xbf16>, !attn_tile.tile<64x64xbf16>, !attn_tile.tile<128xf32>
  return
}

// -----

func.func @decay_state_log_decay(%s: !attn_tile.tile<128x64xf32>, %p: !attn_tile.tile<64x64xf32>) {
  // expected-error @+1 {{'attn_tile.decay_state' op log_decay must have one entry per token ([C]) or per token and key feature ([C, 128]), got '!attn_tile.tile<64x64xf32>'}}
  %r = attn_tile.decay_state %s log_decay %p : !attn_tile.tile<128x64xf32>, !attn_tile.tile<64x64xf32>
  return
}

// -----

func.func @decay_state_rank(%s: !attn_tile.tile<128xf32>, %p: !attn_tile.tile<64xf32>) {
  // expected-error @+1 {{'attn_tile.decay_state' op the state must be a 2-D tile, got '!attn_tile.tile<128xf32>'}}
  %r = attn_tile.decay_state %s log_decay %p : !attn_tile.tile<128xf32>, !attn_tile.tile<64xf32>
  return
}

// -----

func.func @decayed_scores_shape(%q: !attn_tile.tile<64x128xf32>, %p: !attn_tile.tile<64x64xf32>) {
  // expected-error @+1 {{'attn_tile.decayed_scores' op queries, keys and logs must have one shape}}
  %r = attn_tile.decayed_scores %q, %q, %p : !attn_tile.tile<64x128xf32>, !attn_tile.tile<64x128xf32>, !attn_tile.tile<64x64xf32> -> !attn_tile.tile<64x64xf32>
  return
}

// -----

func.func @decayed_scores_key_logs(%q: !attn_tile.tile<64x128xf32>, %p: !attn_tile.tile<64x64xf32>) {
  // expected-error @+1 {{'attn_tile.decayed_scores' op key_logs must have the keys' shape, got '!attn_tile.tile<64x64xf32>'}}
  %r = attn_tile.decayed_scores %q, %q, %q key_logs %p : !attn_tile.tile<64x128xf32>, !attn_tile.tile<64x128xf32>, !attn_tile.tile<64x128xf32>, !attn_tile.tile<64x64xf32> -> !attn_tile.tile<64x64xf32>
  return
}

// -----

func.func @extract_rows_outside(%p: !attn_tile.tile<64xf32>) {
  // expected-error @+1 {{'attn_tile.extract_rows' op rows [48, 80) lie outside the source's 64 rows}}
  %r = attn_tile.extract_rows %p {offset = 48} : !attn_tile.tile<64xf32> -> !attn_tile.tile<32xf32>
  return
}

// -----

func.func @extract_rows_columns(%p: !attn_tile.tile<64x8xf32>) {
  // expected-error @+1 {{'attn_tile.extract_rows' op result must be rows of the source: the same columns, element type and layout}}
  %r = attn_tile.extract_rows %p {offset = 0} : !attn_tile.tile<64x8xf32> -> !attn_tile.tile<32x4xf32>
  return
}

// -----

func.func @online_softmax_rows(%s: !attn_tile.tile<64x32xf32>, %m: !attn_tile.tile<32xf32>) {
  // expected-error @+1 {{'attn_tile.online_softmax' op the running maximum and sum must be 1-D tiles of 64 elements laid out along the scores' rows}}
  %p, %m1, %l1, %c = attn_tile.online_softmax %s, %m, %m : !attn_tile.tile<64x32xf32>, !attn_tile.tile<32xf32>
  return
}

// -----

#mma = #attn_tile.mma<warps = [4, 1]>
func.func @online_softmax_layout(%s: !attn_tile.tile<64x32xf32, #mma>, %m: !attn_tile.tile<64xf32>) {
  // expected-error @+1 {{'attn_tile.online_softmax' op the running maximum and sum must be 1-D tiles of 64 elements laid out along the scores' rows}}
  %p, %m1, %l1, %c = attn_tile.online_softmax %s, %m, %m : !attn_tile.tile<64x32xf32, #mma>, !attn_tile.tile<64xf32>
  return
}

// -----

func.func @online_softmax_scale(%s: !attn_tile.tile<64x32xf32>, %m: !attn_tile.tile<64xf32>) {
  // expected-error @+1 {{'attn_tile.online_softmax' op scale must be positive and finite, got -1}}
  %p, %m1, %l1, %c = attn_tile.online_softmax %s, %m, %m {scale = -1.0 : f32} : !attn_tile.tile<64x32xf32>, !attn_tile.tile<64xf32>
  return
}

// -----

func.func @online_softmax_rank(%s: !attn_tile.tile<64xf32>) {
  // expected-error @+1 {{'attn_tile.online_softmax' op scores must be a 2-D tile, got '!attn_tile.tile<64xf32>'}}
  %p, %m1, %l1, %c = attn_tile.online_softmax %s, %s, %s : !attn_tile.tile<64xf32>, !attn_tile.tile<64xf32>
  return
}

// -----

func.func @finalize_sum(%acc: !attn_tile.tile<64x128xf32>, %l: !attn_tile.tile<128xf32>) {
  // expected-error @+1 {{'attn_tile.finalize' op the sum must be a 1-D tile of 64 elements laid out along the accumulator's rows}}
  %o = attn_tile.finalize %acc, %l : !attn_tile.tile<64x128xf32>, !attn_tile.tile<128xf32>
  return
}

// -----

func.func @log_sum_exp_rank(%m: !attn_tile.tile<64x2xf32>) {
  // expected-error @+1 {{'attn_tile.log_sum_exp' op takes 1-D tiles, got '!attn_tile.tile<64x2xf32>'}}
  %lse = attn_tile.log_sum_exp %m, %m : !attn_tile.tile<64x2xf32>
  return
}

// -----

func.func @taylor2_width(%x: !attn_tile.tile<64x16xf32>) {
  // expected-error @+1 {{'attn_tile.taylor2_features' op result must be [64, 273] (1 + D + D^2)}}
  %t = attn_tile.taylor2_features %x : !attn_tile.tile<64x16xf32> -> !attn_tile.tile<64x272xf32>
  return
}

// -----

func.func @taylor2_element(%x: !attn_tile.tile<64x16xf32>) {
  // expected-error @+1 {{'attn_tile.taylor2_features' op result must have the source's element type}}
  %t = attn_tile.taylor2_features %x : !attn_tile.tile<64x16xf32> -> !attn_tile.tile<64x273xbf16>
  return
}

// -----

func.func @softmax_features_width(%y: !attn_tile.tile<64x32xf32>) {
  // expected-error @+1 {{'attn_tile.softmax_features' op maps a [C, M] tile to [C, 2 M], got '!attn_tile.tile<64x32xf32>' -> '!attn_tile.tile<64x32xf32>'}}
  %h = attn_tile.softmax_features %y : !attn_tile.tile<64x32xf32> -> !attn_tile.tile<64x32xf32>
  return
}
