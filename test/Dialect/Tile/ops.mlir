// RUN: attn-opt %s | attn-opt | FileCheck %s
// RUN: attn-opt %s --mlir-print-op-generic | attn-opt | FileCheck %s

#mma = #attn_tile.mma<warps = [4, 1]>
#rows = #attn_tile.slice<dim = 1, parent = #mma>
#columns = #attn_tile.slice<dim = 0, parent = #mma>

// CHECK-LABEL: func @chunk
func.func @chunk(%q: memref<?x16x?x128xbf16>, %g: memref<?x16x?xf32>,
                 %o: memref<?x16x?x128xbf16>, %b: index, %h: index,
                 %t0: index, %n: index) {
  %c0 = arith.constant 0 : index
  %zero = arith.constant 0.0 : f32
  // CHECK: %[[Q:.*]] = attn_tile.load %{{.*}}[%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}] rows_below %{{.*}} : memref<?x16x?x128xbf16> -> !attn_tile.tile<64x128xbf16, #attn_tile.shared>
  %qt = attn_tile.load %q[%b, %h, %t0, %c0] rows_below %n
      : memref<?x16x?x128xbf16> -> !attn_tile.tile<64x128xbf16, #attn_tile.shared>
  // CHECK: attn_tile.load %{{.*}}[%{{.*}}, %{{.*}}, %{{.*}}] rows_below %{{.*}} : memref<?x16x?xf32> -> !attn_tile.tile<64xf32>
  %gt = attn_tile.load %g[%b, %h, %t0] rows_below %n
      : memref<?x16x?xf32> -> !attn_tile.tile<64xf32>
  // CHECK: attn_tile.cumsum %{{.*}} : !attn_tile.tile<64xf32>
  %p = attn_tile.cumsum %gt : !attn_tile.tile<64xf32>
  // CHECK: attn_tile.decay_mask %{{.*}}, %{{.*}} {diagonal = -1 : i64} : (!attn_tile.tile<64xf32>, !attn_tile.tile<64xf32>) -> !attn_tile.tile<64x64xf32>
  %d = attn_tile.decay_mask %p, %p {diagonal = -1}
      : (!attn_tile.tile<64xf32>, !attn_tile.tile<64xf32>) -> !attn_tile.tile<64x64xf32>
  // CHECK: attn_tile.decay_mask : () -> !attn_tile.tile<64x64xf32>
  %causal = attn_tile.decay_mask : () -> !attn_tile.tile<64x64xf32>
  // CHECK: attn_tile.splat %{{.*}} : f32 -> !attn_tile.tile<64x64xf32, #attn_tile.mma<warps = [4, 1]>>
  %acc = attn_tile.splat %zero : f32 -> !attn_tile.tile<64x64xf32, #mma>
  // CHECK: attn_tile.matmul %[[Q]], %[[Q]], %{{.*}} {transpose_rhs}
  %s = attn_tile.matmul %qt, %qt, %acc {transpose_rhs}
      : !attn_tile.tile<64x128xbf16, #attn_tile.shared>,
        !attn_tile.tile<64x128xbf16, #attn_tile.shared>,
        !attn_tile.tile<64x64xf32, #mma>
  // CHECK: attn_tile.reduce <max> %{{.*}} : !attn_tile.tile<64x64xf32, #attn_tile.mma<warps = [4, 1]>> -> !attn_tile.tile<64xf32, #attn_tile.slice<dim = 1, parent = #attn_tile.mma<warps = [4, 1]>>>
  %m = attn_tile.reduce <max> %s
      : !attn_tile.tile<64x64xf32, #mma> -> !attn_tile.tile<64xf32, #rows>
  // CHECK: attn_tile.map %{{.*}}, %{{.*}} {broadcast = array<i64: -1, 0>}
  // CHECK: ^bb0(%{{.*}}: index, %{{.*}}: index, %{{.*}}: f32, %{{.*}}: f32):
  // CHECK: attn_tile.yield %{{.*}} : f32
  %e = attn_tile.map %s, %m {broadcast = array<i64: -1, 0>}
      : (!attn_tile.tile<64x64xf32, #mma>, !attn_tile.tile<64xf32, #rows>)
        -> !attn_tile.tile<64x64xf32, #mma> {
  ^bb0(%i: index, %j: index, %x: f32, %mi: f32):
    %y = arith.subf %x, %mi : f32
    %z = math.exp2 %y : f32
    attn_tile.yield %z : f32
  }
  %eb = attn_tile.map %e : (!attn_tile.tile<64x64xf32, #mma>)
        -> !attn_tile.tile<64x64xbf16, #mma> {
  ^bb0(%i: index, %j: index, %x: f32):
    %y = arith.truncf %x : f32 to bf16
    attn_tile.yield %y : bf16
  }
  // CHECK: attn_tile.convert_layout %{{.*}} : !attn_tile.tile<64x64xbf16, #attn_tile.mma<warps = [4, 1]>> -> !attn_tile.tile<64x64xbf16, #attn_tile.operand<index = 0, parent = #attn_tile.mma<warps = [4, 1]>>>
  %a = attn_tile.convert_layout %eb
      : !attn_tile.tile<64x64xbf16, #mma>
        -> !attn_tile.tile<64x64xbf16, #attn_tile.operand<index = 0, parent = #mma>>
  // CHECK: attn_tile.ut_solve %{{.*}} : !attn_tile.tile<64x64xf32>
  %t = attn_tile.ut_solve %d : !attn_tile.tile<64x64xf32>
  // CHECK: attn_tile.store %{{.*}}, %{{.*}}[%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}] rows_below %{{.*}} : !attn_tile.tile<64x64xf32> -> memref<?x16x?x128xbf16>
  attn_tile.store %t, %o[%b, %h, %t0, %c0] rows_below %n
      : !attn_tile.tile<64x64xf32> -> memref<?x16x?x128xbf16>
  return
}

// CHECK-LABEL: func @state
func.func @state(%s: !attn_tile.tile<128x64xf32>, %k: !attn_tile.tile<64x128xbf16>,
                 %v: !attn_tile.tile<64x64xbf16>, %c: !attn_tile.tile<64xf32>,
                 %kf: !attn_tile.tile<64x128xf32>, %pk: !attn_tile.tile<64x128xf32>)
    -> !attn_tile.tile<128x64xf32> {
  // CHECK: attn_tile.state_update %{{.*}}, %{{.*}}, %{{.*}} log_decay %{{.*}} : !attn_tile.tile<128x64xf32>, !attn_tile.tile<64x128xbf16>, !attn_tile.tile<64x64xbf16>, !attn_tile.tile<64xf32>
  %s1 = attn_tile.state_update %s, %k, %v log_decay %c
      : !attn_tile.tile<128x64xf32>, !attn_tile.tile<64x128xbf16>,
        !attn_tile.tile<64x64xbf16>, !attn_tile.tile<64xf32>
  // CHECK: attn_tile.decayed_scores %{{.*}}, %{{.*}}, %{{.*}} : !attn_tile.tile<64x128xf32>, !attn_tile.tile<64x128xf32>, !attn_tile.tile<64x128xf32> -> !attn_tile.tile<64x64xf32>
  %scores = attn_tile.decayed_scores %kf, %kf, %pk
      : !attn_tile.tile<64x128xf32>, !attn_tile.tile<64x128xf32>,
        !attn_tile.tile<64x128xf32> -> !attn_tile.tile<64x64xf32>
  // CHECK: attn_tile.decayed_scores %{{.*}}, %{{.*}}, %{{.*}} key_logs %{{.*}} : !attn_tile.tile<64x128xf32>, !attn_tile.tile<64x128xf32>, !attn_tile.tile<64x128xf32>, !attn_tile.tile<64x128xf32> -> !attn_tile.tile<64x64xf32>
  %lagged = attn_tile.decayed_scores %kf, %kf, %pk key_logs %pk
      : !attn_tile.tile<64x128xf32>, !attn_tile.tile<64x128xf32>,
        !attn_tile.tile<64x128xf32>, !attn_tile.tile<64x128xf32>
        -> !attn_tile.tile<64x64xf32>
  // CHECK: attn_tile.extract_rows %{{.*}} {offset = 16 : i64} : !attn_tile.tile<64x128xf32> -> !attn_tile.tile<32x128xf32>
  %rows = attn_tile.extract_rows %pk {offset = 16}
      : !attn_tile.tile<64x128xf32> -> !attn_tile.tile<32x128xf32>
  // CHECK: attn_tile.state_update %{{.*}}, %{{.*}}, %{{.*}} : !attn_tile.tile<128x64xf32>, !attn_tile.tile<64x128xbf16>, !attn_tile.tile<64x64xbf16>
  %s2 = attn_tile.state_update %s1, %k, %v
      : !attn_tile.tile<128x64xf32>, !attn_tile.tile<64x128xbf16>,
        !attn_tile.tile<64x64xbf16>
  // CHECK: attn_tile.decay_state %{{.*}} log_decay %{{.*}} : !attn_tile.tile<128x64xf32>, !attn_tile.tile<64xf32>
  %s3 = attn_tile.decay_state %s2 log_decay %c
      : !attn_tile.tile<128x64xf32>, !attn_tile.tile<64xf32>
  // CHECK: attn_tile.decay_state %{{.*}} log_decay %{{.*}} : !attn_tile.tile<128x64xf32>, !attn_tile.tile<64x128xf32>
  %s4 = attn_tile.decay_state %s3 log_decay %pk
      : !attn_tile.tile<128x64xf32>, !attn_tile.tile<64x128xf32>
  return %s4 : !attn_tile.tile<128x64xf32>
}

// CHECK-LABEL: func @flash_step
func.func @flash_step(%s: !attn_tile.tile<64x32xf32, #mma>,
                      %m: !attn_tile.tile<64xf32, #rows>,
                      %l: !attn_tile.tile<64xf32, #rows>,
                      %acc: !attn_tile.tile<64x128xf32, #mma>)
    -> (!attn_tile.tile<64x128xf32, #mma>, !attn_tile.tile<64xf32, #rows>) {
  // CHECK: %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} = attn_tile.online_softmax %{{.*}}, %{{.*}}, %{{.*}} : !attn_tile.tile<64x32xf32, #attn_tile.mma<warps = [4, 1]>>, !attn_tile.tile<64xf32, #attn_tile.slice<dim = 1, parent = #attn_tile.mma<warps = [4, 1]>>>
  %p, %m1, %l1, %c = attn_tile.online_softmax %s, %m, %l
      : !attn_tile.tile<64x32xf32, #mma>, !attn_tile.tile<64xf32, #rows>
  // CHECK: attn_tile.finalize %{{.*}}, %{{.*}} : !attn_tile.tile<64x128xf32, #attn_tile.mma<warps = [4, 1]>>, !attn_tile.tile<64xf32, #attn_tile.slice<dim = 1, parent = #attn_tile.mma<warps = [4, 1]>>>
  %o = attn_tile.finalize %acc, %l1
      : !attn_tile.tile<64x128xf32, #mma>, !attn_tile.tile<64xf32, #rows>
  // CHECK: attn_tile.log_sum_exp %{{.*}}, %{{.*}} : !attn_tile.tile<64xf32, #attn_tile.slice<dim = 1, parent = #attn_tile.mma<warps = [4, 1]>>>
  %lse = attn_tile.log_sum_exp %m1, %l1 : !attn_tile.tile<64xf32, #rows>
  return %o, %lse : !attn_tile.tile<64x128xf32, #mma>, !attn_tile.tile<64xf32, #rows>
}

// CHECK-LABEL: func @feature_maps
func.func @feature_maps(%x: !attn_tile.tile<64x16xbf16>, %y: !attn_tile.tile<64x32xf32>)
    -> (!attn_tile.tile<64x273xbf16>, !attn_tile.tile<64x64xf32>) {
  // CHECK: attn_tile.taylor2_features %{{.*}} : !attn_tile.tile<64x16xbf16> -> !attn_tile.tile<64x273xbf16>
  %t = attn_tile.taylor2_features %x : !attn_tile.tile<64x16xbf16> -> !attn_tile.tile<64x273xbf16>
  // CHECK: attn_tile.softmax_features %{{.*}} : !attn_tile.tile<64x32xf32> -> !attn_tile.tile<64x64xf32>
  %h = attn_tile.softmax_features %y : !attn_tile.tile<64x32xf32> -> !attn_tile.tile<64x64xf32>
  return %t, %h : !attn_tile.tile<64x273xbf16>, !attn_tile.tile<64x64xf32>
}
