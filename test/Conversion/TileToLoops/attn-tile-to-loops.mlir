// RUN: attn-opt %s --attn-tile-to-loops | FileCheck %s

// A chunk loop that carries a state tile: the carried value is copied into
// a buffer of the loop's own before the yield, and every tile buffer is
// allocated once at the function's start and freed before it returns.

// CHECK-LABEL: func @carried_state
// CHECK-COUNT-5: memref.alloc() : memref<{{.*}}>
// CHECK: scf.for %{{.*}} = %{{.*}} to %{{.*}} step %{{.*}} iter_args(%[[S:.*]] = %{{.*}}) -> (memref<16x8xf32>)
// The load: zero past rows_below.
// CHECK:   scf.if
// CHECK:     memref.load %{{.*}} : memref<?x16xf32>
// CHECK:   } else {
// CHECK:     arith.constant 0.000000e+00 : f32
// The state update reads the carried buffer.
// CHECK:   memref.load %[[S]]
// The copy of the carried value, then the yield of its buffer.
// CHECK:   memref.store %{{.*}}, %[[NEXT:[a-z_0-9]+]][%{{.*}}, %{{.*}}] : memref<16x8xf32>
// CHECK:   %[[E:.*]] = memref.load %[[NEXT]]
// CHECK-NEXT: memref.store %[[E]], %[[COPY:[a-z_0-9]+]]
// CHECK:   scf.yield %[[COPY]] : memref<16x8xf32>
// CHECK: memref.dealloc
// CHECK: return
func.func @carried_state(%k: memref<?x16xf32>, %v: memref<?x8xf32>,
                         %out: memref<16x8xf32>, %n: index) {
  %c0 = arith.constant 0 : index
  %c4 = arith.constant 4 : index
  %zero = arith.constant 0.0 : f32
  %s0 = attn_tile.splat %zero : f32 -> !attn_tile.tile<16x8xf32>
  %numChunks = arith.ceildivui %n, %c4 : index
  %c1 = arith.constant 1 : index
  %s = scf.for %c = %c0 to %numChunks step %c1 iter_args(%state = %s0)
      -> (!attn_tile.tile<16x8xf32>) {
    %t0 = arith.muli %c, %c4 : index
    %kt = attn_tile.load %k[%t0, %c0] rows_below %n
        : memref<?x16xf32> -> !attn_tile.tile<4x16xf32>
    %vt = attn_tile.load %v[%t0, %c0] rows_below %n
        : memref<?x8xf32> -> !attn_tile.tile<4x8xf32>
    %next = attn_tile.state_update %state, %kt, %vt
        : !attn_tile.tile<16x8xf32>, !attn_tile.tile<4x16xf32>,
          !attn_tile.tile<4x8xf32>
    scf.yield %next : !attn_tile.tile<16x8xf32>
  }
  attn_tile.store %s, %out[%c0, %c0]
      : !attn_tile.tile<16x8xf32> -> memref<16x8xf32>
  return
}

// CHECK-LABEL: func @decay_state
// S'[f][d] = exp(p_last,f) S[f][d], p_last the last row of the log decays.
// CHECK: %[[LAST:.*]] = arith.constant 3 : index
// CHECK: scf.for %[[F:.*]] = %{{.*}} to %{{.*}}
// CHECK:   scf.for %[[D:.*]] = %{{.*}} to %{{.*}}
// CHECK:     %[[P:.*]] = memref.load %{{.*}}[%[[LAST]], %[[F]]] : memref<4x16xf32>
// exp(x) as exp2(x log2(e)).
// CHECK:     %[[X:.*]] = arith.mulf %[[P]], %{{.*}} : f32
// CHECK:     %[[E:.*]] = math.exp2 %[[X]]
// CHECK:     %[[S:.*]] = memref.load %{{.*}}[%[[F]], %[[D]]] : memref<16x8xf32>
// CHECK:     arith.mulf %[[E]], %[[S]]
func.func @decay_state(%s: memref<16x8xf32>, %p: memref<4x16xf32>,
                       %out: memref<16x8xf32>) {
  %c0 = arith.constant 0 : index
  %st = attn_tile.load %s[%c0, %c0] : memref<16x8xf32> -> !attn_tile.tile<16x8xf32>
  %pt = attn_tile.load %p[%c0, %c0] : memref<4x16xf32> -> !attn_tile.tile<4x16xf32>
  %d = attn_tile.decay_state %st log_decay %pt
      : !attn_tile.tile<16x8xf32>, !attn_tile.tile<4x16xf32>
  attn_tile.store %d, %out[%c0, %c0] : !attn_tile.tile<16x8xf32> -> memref<16x8xf32>
  return
}

// CHECK-LABEL: func @ut_solve
// Identity first, then column by column (a column reads only itself),
// T[i][m] = -sum_{p in [m, i)} A[i][p] T[p][m] for the rows i > m.
// CHECK: arith.cmpi eq
// CHECK: scf.for %[[M:.*]] = %{{.*}} to
// CHECK:   %[[BELOW:.*]] = arith.addi %[[M]]
// CHECK:   scf.for %[[I:.*]] = %[[BELOW]] to
// CHECK:     scf.for %[[P:.*]] = %[[M]] to %[[I]]
// CHECK:     arith.negf
func.func @ut_solve(%a: memref<8x8xf32>, %out: memref<8x8xf32>) {
  %c0 = arith.constant 0 : index
  %at = attn_tile.load %a[%c0, %c0] : memref<8x8xf32> -> !attn_tile.tile<8x8xf32>
  %t = attn_tile.ut_solve %at : !attn_tile.tile<8x8xf32>
  attn_tile.store %t, %out[%c0, %c0] : !attn_tile.tile<8x8xf32> -> memref<8x8xf32>
  return
}

// CHECK-LABEL: func @online_softmax
// The pass first decomposes online_softmax, finalize and log_sum_exp into
// reductions and maps (DecomposeTileSoftmax.cpp), each then a loop nest:
// the tile's row maxima; m' = max(m, scale them); the shift z = m', or 0
// where m' = -inf; the correction exp(m - z) as exp2((m - z) log2(e));
// -z log2(e) per row; each p = exp2(s scale log2(e) - z log2(e)), one
// multiply-add (exp(-inf) = 0 where m or s is -inf); the row sums of p;
// l' = c l + sum.
// CHECK: scf.for %[[R0:.*]] = %{{.*}} to %{{.*}}
// CHECK:   scf.for {{.*}} iter_args(%{{.*}} = %{{.*}}) -> (f32)
// CHECK:     arith.maxnumf
// CHECK:   memref.store %{{.*}}, %[[TILEMAX:.*]][%[[R0]]] : memref<4xf32>
// CHECK: scf.for %[[R1:.*]] = %{{.*}} to %{{.*}}
// CHECK:   %[[MAX:.*]] = memref.load %[[TILEMAX]][%[[R1]]]
// CHECK:   %[[SCALED_MAX:.*]] = arith.mulf %{{.*}}, %[[MAX]]
// CHECK:   arith.maximumf %{{.*}}, %[[SCALED_MAX]]
// CHECK: scf.for
// CHECK:   %[[NONE:.*]] = arith.cmpf oeq, %{{.*}}, %{{.*}} : f32
// CHECK:   arith.select %[[NONE]]
// CHECK: scf.for
// CHECK:   arith.subf
// CHECK:   arith.mulf
// CHECK:   math.exp2
// CHECK: scf.for
// CHECK:   arith.mulf %{{.*}}, %cst{{.*}} : f32
// CHECK: scf.for
// CHECK:   scf.for
// CHECK:     %[[EXPONENT:.*]] = math.fma %{{.*}}, %cst{{.*}}, %{{.*}} : f32
// CHECK:     math.exp2 %[[EXPONENT]]
// CHECK:     memref.store %{{.*}}, %[[P:.*]][%{{.*}}, %{{.*}}] : memref<4x8xf32>
// CHECK: scf.for
// CHECK:   scf.for {{.*}} -> (f32)
// CHECK:     memref.load %[[P]]
// CHECK:     arith.addf
// CHECK: scf.for
// CHECK:   %[[SCALED:.*]] = arith.mulf
// CHECK:   arith.addf %[[SCALED]]
// Then o = acc / l, 0 where l = 0, and m + log(l), -inf where l = 0.
// CHECK: arith.cmpf une
// CHECK: arith.divf
// CHECK: arith.cmpf oeq
// CHECK: math.log
func.func @online_softmax(%s: memref<4x8xf32>, %m: memref<4xf32>,
                          %l: memref<4xf32>, %acc: memref<4x2xf32>,
                          %out: memref<4x2xf32>, %lse: memref<4xf32>) {
  %c0 = arith.constant 0 : index
  %st = attn_tile.load %s[%c0, %c0] : memref<4x8xf32> -> !attn_tile.tile<4x8xf32>
  %mt = attn_tile.load %m[%c0] : memref<4xf32> -> !attn_tile.tile<4xf32>
  %lt = attn_tile.load %l[%c0] : memref<4xf32> -> !attn_tile.tile<4xf32>
  %at = attn_tile.load %acc[%c0, %c0] : memref<4x2xf32> -> !attn_tile.tile<4x2xf32>
  %p, %m1, %l1, %c = attn_tile.online_softmax %st, %mt, %lt {scale = 0.5 : f32}
      : !attn_tile.tile<4x8xf32>, !attn_tile.tile<4xf32>
  %o = attn_tile.finalize %at, %l1 : !attn_tile.tile<4x2xf32>, !attn_tile.tile<4xf32>
  %e = attn_tile.log_sum_exp %m1, %l1 : !attn_tile.tile<4xf32>
  attn_tile.store %o, %out[%c0, %c0] : !attn_tile.tile<4x2xf32> -> memref<4x2xf32>
  attn_tile.store %e, %lse[%c0] : !attn_tile.tile<4xf32> -> memref<4xf32>
  return
}

// CHECK-LABEL: func @taylor2_features
// Per row: 1, then x_a at 1 + a and x_a x_c / sqrt(2) at 1 + D + a D + c.
// CHECK: scf.for %[[R:.*]] = %{{.*}} to %{{.*}}
// CHECK:   memref.store %{{.*}}, %{{.*}}[%[[R]], %c0{{.*}}] : memref<2x13xf32>
// CHECK:   scf.for %[[A:.*]] = %{{.*}} to %{{.*}}
// CHECK:     memref.store
// CHECK:     scf.for %[[C:.*]] = %{{.*}} to %{{.*}}
// CHECK:       arith.constant 0.707106769 : f32
// CHECK:       %[[AD:.*]] = arith.muli %[[A]], %c3
// CHECK:       arith.addi %[[AD]], %[[C]]
func.func @taylor2_features(%x: memref<2x3xf32>, %out: memref<2x13xf32>) {
  %c0 = arith.constant 0 : index
  %xt = attn_tile.load %x[%c0, %c0] : memref<2x3xf32> -> !attn_tile.tile<2x3xf32>
  %f = attn_tile.taylor2_features %xt : !attn_tile.tile<2x3xf32> -> !attn_tile.tile<2x13xf32>
  attn_tile.store %f, %out[%c0, %c0] : !attn_tile.tile<2x13xf32> -> memref<2x13xf32>
  return
}

// CHECK-LABEL: func @softmax_features
// Per row, for y and then -y: the maximum, exp(s y - max) summed, then
// each divided by the sum.
// CHECK: scf.for %[[R:.*]] = %{{.*}} to %{{.*}}
// CHECK:   scf.for {{.*}} iter_args
// CHECK:     arith.maximumf
// CHECK:   scf.for {{.*}} iter_args
// CHECK:     math.exp
// CHECK:   scf.for
// CHECK:     arith.divf
// CHECK:   arith.constant -1.000000e+00 : f32
// CHECK:   math.exp
// CHECK:   arith.divf
func.func @softmax_features(%y: memref<2x4xf32>, %out: memref<2x8xf32>) {
  %c0 = arith.constant 0 : index
  %yt = attn_tile.load %y[%c0, %c0] : memref<2x4xf32> -> !attn_tile.tile<2x4xf32>
  %f = attn_tile.softmax_features %yt : !attn_tile.tile<2x4xf32> -> !attn_tile.tile<2x8xf32>
  attn_tile.store %f, %out[%c0, %c0] : !attn_tile.tile<2x8xf32> -> memref<2x8xf32>
  return
}

// CHECK-LABEL: func @map_broadcast
// CHECK: memref.load %{{.*}}[%[[R:arg[0-9]+]], %[[C:arg[0-9]+]]] : memref<4x8xf32>
// CHECK: memref.load %{{.*}}[%[[R]]] : memref<4xf32>
// CHECK: memref.load %{{.*}}[%[[C]]] : memref<8xf32>
// CHECK: arith.addf
// CHECK: arith.mulf
func.func @map_broadcast(%x: memref<4x8xf32>, %r: memref<4xf32>,
                         %c: memref<8xf32>, %out: memref<4x8xf32>) {
  %c0 = arith.constant 0 : index
  %xt = attn_tile.load %x[%c0, %c0] : memref<4x8xf32> -> !attn_tile.tile<4x8xf32>
  %rt = attn_tile.load %r[%c0] : memref<4xf32> -> !attn_tile.tile<4xf32>
  %ct = attn_tile.load %c[%c0] : memref<8xf32> -> !attn_tile.tile<8xf32>
  %y = attn_tile.map %xt, %rt, %ct {broadcast = array<i64: -1, 0, 1>}
      : (!attn_tile.tile<4x8xf32>, !attn_tile.tile<4xf32>, !attn_tile.tile<8xf32>)
        -> !attn_tile.tile<4x8xf32> {
  ^bb0(%i: index, %j: index, %xe: f32, %re: f32, %ce: f32):
    %s = arith.addf %xe, %re : f32
    %p = arith.mulf %s, %ce : f32
    attn_tile.yield %p : f32
  }
  attn_tile.store %y, %out[%c0, %c0] : !attn_tile.tile<4x8xf32> -> memref<4x8xf32>
  return
}
