// RUN: attn-opt %s --pass-pipeline='builtin.module(gpu.module(attn-tile-to-mma-sync))' | FileCheck %s

#mma = #attn_tile.mma<warps = [4, 1]>
#rows = #attn_tile.slice<dim = 1, parent = #mma>
#columns = #attn_tile.slice<dim = 0, parent = #mma>

module attributes {gpu.container_module} {
gpu.module @kernels {
  // CHECK-LABEL: gpu.func @scores
  gpu.func @scores(%q: memref<?x2x?x64xbf16, strided<[?, ?, ?, 1], offset: ?>>,
                   %o: memref<?x2x?x64xf32>, %b: index, %h: index,
                   %t0: index, %n: index) kernel
      attributes {known_block_size = array<i32: 128, 1, 1>} {
    %c0 = arith.constant 0 : index
    %zero = arith.constant 0.0 : f32
    // Two consecutive shared loads: one barrier before, cp.async of 16-byte
    // chunks zero-filled past %n, one group each; both are first used by
    // the matmul, which waits for both (wait_group 0) and a barrier.
    // CHECK: gpu.barrier
    // CHECK: nvgpu.device_async_copy
    // CHECK: nvgpu.device_async_create_group
    // CHECK-NOT: gpu.barrier
    // CHECK: nvgpu.device_async_copy
    // CHECK: nvgpu.device_async_create_group
    // CHECK-NOT: nvvm.cp.async.wait.group
    // CHECK: vector.broadcast %{{.*}} : f32 to vector<32xf32>
    // CHECK-NEXT: nvvm.cp.async.wait.group 0
    // CHECK-NEXT: gpu.barrier
    %x = attn_tile.load %q[%b, %h, %t0, %c0] rows_below %n
        : memref<?x2x?x64xbf16, strided<[?, ?, ?, 1], offset: ?>>
          -> !attn_tile.tile<64x64xbf16, #attn_tile.shared>
    %y = attn_tile.load %q[%b, %h, %t0, %c0] rows_below %n
        : memref<?x2x?x64xbf16, strided<[?, ?, ?, 1], offset: ?>>
          -> !attn_tile.tile<64x64xbf16, #attn_tile.shared>
    // S = X Y^T on m16n8k16 MMAs: A fragments by ldmatrix, B fragments by
    // ldmatrix of the rows of Y (not transposed: Y is stored [n][k]).
    // CHECK: nvgpu.ldmatrix %{{.*}} {numTiles = 4 : i32, transpose = false}
    // CHECK: nvgpu.ldmatrix %{{.*}} {numTiles = 4 : i32, transpose = false}
    // CHECK: nvvm.mma.sync
    %acc = attn_tile.splat %zero : f32 -> !attn_tile.tile<64x64xf32, #mma>
    %s = attn_tile.matmul %x, %y, %acc {transpose_rhs}
        : !attn_tile.tile<64x64xbf16, #attn_tile.shared>,
          !attn_tile.tile<64x64xbf16, #attn_tile.shared>,
          !attn_tile.tile<64x64xf32, #mma>
    // A row maximum: within the thread, then two shuffles in the quad.
    // CHECK: arith.maxnumf
    // CHECK: gpu.shuffle  xor %{{.*}}, %c1_i32, %c32_i32
    // CHECK: gpu.shuffle  xor %{{.*}}, %c2_i32, %c32_i32
    %m = attn_tile.reduce <max> %s
        : !attn_tile.tile<64x64xf32, #mma> -> !attn_tile.tile<64xf32, #rows>
    // The map's body runs once per element the thread holds (32).
    // CHECK-COUNT-32: arith.subf
    %d = attn_tile.map %s, %m {broadcast = array<i64: -1, 0>}
        : (!attn_tile.tile<64x64xf32, #mma>, !attn_tile.tile<64xf32, #rows>)
          -> !attn_tile.tile<64x64xf32, #mma> {
    ^bb0(%i: index, %j: index, %v: f32, %mi: f32):
      %r = arith.subf %v, %mi : f32
      attn_tile.yield %r : f32
    }
    // CHECK: memref.store %{{.*}}, %{{.*}} : memref<?x2x?x64xf32>
    attn_tile.store %d, %o[%b, %h, %t0, %c0] rows_below %n
        : !attn_tile.tile<64x64xf32, #mma> -> memref<?x2x?x64xf32>
    gpu.return
  }

  // Shared tiles that are never alive together share a region: %x is dead
  // once it is in registers, so %y takes its offset.
  // CHECK-LABEL: gpu.func @reuse
  // CHECK: memref.view %{{.*}}[%c0{{(_[0-9]+)?}}][] : memref<?xi8, #gpu.address_space<workgroup>> to memref<64x72xbf16
  // CHECK: memref.view %{{.*}}[%c0{{(_[0-9]+)?}}][] : memref<?xi8, #gpu.address_space<workgroup>> to memref<64x72xbf16
  gpu.func @reuse(%q: memref<?x2x?x64xbf16, strided<[?, ?, ?, 1], offset: ?>>,
                  %o: memref<?x2x?x64xbf16>, %b: index, %h: index,
                  %t0: index, %n: index) kernel
      attributes {known_block_size = array<i32: 128, 1, 1>} {
    %c0 = arith.constant 0 : index
    %x = attn_tile.load %q[%b, %h, %t0, %c0] rows_below %n
        : memref<?x2x?x64xbf16, strided<[?, ?, ?, 1], offset: ?>>
          -> !attn_tile.tile<64x64xbf16, #attn_tile.shared>
    %xr = attn_tile.convert_layout %x
        : !attn_tile.tile<64x64xbf16, #attn_tile.shared>
          -> !attn_tile.tile<64x64xbf16, #mma>
    attn_tile.store %xr, %o[%b, %h, %t0, %c0] rows_below %n
        : !attn_tile.tile<64x64xbf16, #mma> -> memref<?x2x?x64xbf16>
    %y = attn_tile.load %q[%b, %h, %t0, %c0] rows_below %n
        : memref<?x2x?x64xbf16, strided<[?, ?, ?, 1], offset: ?>>
          -> !attn_tile.tile<64x64xbf16, #attn_tile.shared>
    %yr = attn_tile.convert_layout %y
        : !attn_tile.tile<64x64xbf16, #attn_tile.shared>
          -> !attn_tile.tile<64x64xbf16, #mma>
    attn_tile.store %yr, %o[%b, %h, %t0, %c0] rows_below %n
        : !attn_tile.tile<64x64xbf16, #mma> -> memref<?x2x?x64xbf16>
    gpu.return
  }

  // The UT transform in shared memory: a barrier, the diagonal blocks (one
  // warp each), then the pairs of solved blocks joined at 16 and at 32
  // rows, each by X = L_ba T_a into the scratch tile and -T_b X into the
  // result, on m16n8k8 tf32 MMAs of a split and a truncated operand
  // (two MMAs a step), a barrier before each product and one at the end.
  // CHECK-LABEL: gpu.func @ut_solve
  // CHECK: gpu.barrier
  // CHECK: scf.if
  // CHECK-NOT: nvvm.mma.sync
  // CHECK: gpu.barrier
  // CHECK: scf.if
  // CHECK: memref.collapse_shape
  // CHECK: arith.andi %{{.*}}, %c-8192_i32
  // CHECK: nvvm.mma.sync
  // CHECK-SAME: multiplicandAPtxType = #nvvm.mma_type<tf32>
  // CHECK-SAME: shape = #nvvm.shape<m = 16, n = 8, k = 8>
  // CHECK: nvvm.mma.sync
  // CHECK: gpu.barrier
  // CHECK: nvvm.mma.sync
  // CHECK: arith.negf
  // CHECK: gpu.barrier
  // CHECK: nvvm.mma.sync
  // CHECK: gpu.barrier
  // CHECK: nvvm.mma.sync
  // CHECK: arith.negf
  // CHECK: gpu.barrier
  // CHECK-NOT: gpu.barrier
  // CHECK: gpu.return
  gpu.func @ut_solve(%a: memref<?x64x64xf32>, %o: memref<?x64x64xf32>,
                     %b: index, %n: index) kernel
      attributes {known_block_size = array<i32: 128, 1, 1>} {
    %c0 = arith.constant 0 : index
    %l = attn_tile.load %a[%b, %c0, %c0] rows_below %n
        : memref<?x64x64xf32> -> !attn_tile.tile<64x64xf32, #attn_tile.shared>
    %t = attn_tile.ut_solve %l : !attn_tile.tile<64x64xf32, #attn_tile.shared>
    %tr = attn_tile.convert_layout %t
        : !attn_tile.tile<64x64xf32, #attn_tile.shared>
          -> !attn_tile.tile<64x64xf32, #mma>
    attn_tile.store %tr, %o[%b, %c0, %c0] rows_below %n
        : !attn_tile.tile<64x64xf32, #mma> -> memref<?x64x64xf32>
    gpu.return
  }

  // 48 rows (three warps): the 16-row pair [0, 32) is joined, then that
  // block with the last 16 rows, whose lower-left block is 16 rows high;
  // the scratch tile is 24 x 32 (+ 4 columns of padding).
  // CHECK-LABEL: gpu.func @ut_solve_48
  // CHECK: memref<24x36xf32, #gpu.address_space<workgroup>>
  // CHECK: gpu.barrier
  // CHECK: nvvm.mma.sync
  // CHECK: gpu.barrier
  // CHECK: nvvm.mma.sync
  // CHECK: gpu.barrier
  // CHECK: nvvm.mma.sync
  // CHECK: gpu.barrier
  // CHECK: nvvm.mma.sync
  // CHECK: gpu.barrier
  // CHECK-NOT: nvvm.mma.sync
  // CHECK: gpu.return
  gpu.func @ut_solve_48(%a: memref<?x48x48xf32>, %o: memref<?x48x48xf32>,
                        %b: index, %n: index) kernel
      attributes {known_block_size = array<i32: 96, 1, 1>} {
    %c0 = arith.constant 0 : index
    %l = attn_tile.load %a[%b, %c0, %c0] rows_below %n
        : memref<?x48x48xf32> -> !attn_tile.tile<48x48xf32, #attn_tile.shared>
    %t = attn_tile.ut_solve %l : !attn_tile.tile<48x48xf32, #attn_tile.shared>
    %tr = attn_tile.convert_layout %t
        : !attn_tile.tile<48x48xf32, #attn_tile.shared>
          -> !attn_tile.tile<48x48xf32, #attn_tile.mma<warps = [3, 1]>>
    attn_tile.store %tr, %o[%b, %c0, %c0] rows_below %n
        : !attn_tile.tile<48x48xf32, #attn_tile.mma<warps = [3, 1]>>
          -> memref<?x48x48xf32>
    gpu.return
  }

  // 16 rows: the diagonal block alone, no products and no scratch.
  // CHECK-LABEL: gpu.func @ut_solve_16
  // CHECK-NOT: nvvm.mma.sync
  // CHECK-NOT: memref.collapse_shape
  // CHECK: gpu.return
  gpu.func @ut_solve_16(%a: memref<?x16x16xf32>, %o: memref<?x16x16xf32>,
                        %b: index, %n: index) kernel
      attributes {known_block_size = array<i32: 32, 1, 1>} {
    %c0 = arith.constant 0 : index
    %l = attn_tile.load %a[%b, %c0, %c0] rows_below %n
        : memref<?x16x16xf32> -> !attn_tile.tile<16x16xf32, #attn_tile.shared>
    %t = attn_tile.ut_solve %l : !attn_tile.tile<16x16xf32, #attn_tile.shared>
    %tr = attn_tile.convert_layout %t
        : !attn_tile.tile<16x16xf32, #attn_tile.shared>
          -> !attn_tile.tile<16x16xf32, #attn_tile.mma<warps = [1, 1]>>
    attn_tile.store %tr, %o[%b, %c0, %c0] rows_below %n
        : !attn_tile.tile<16x16xf32, #attn_tile.mma<warps = [1, 1]>>
          -> memref<?x16x16xf32>
    gpu.return
  }

  // A gate per key feature: the log gates are scanned down each column, one
  // thread per column; the scores are factored about the chunk's first row
  // unless a barrier's OR says some decay is beyond the bound, and the
  // factored operands go through the op's scratch tiles to mma.sync.
  // CHECK-LABEL: gpu.func @gla_scores
  // CHECK: gpu.block_dim x
  // CHECK: arith.addf
  // CHECK: gpu.barrier
  // CHECK: arith.cmpf ugt
  // CHECK: nvvm.barrier #nvvm.reduction<or>
  // CHECK: scf.if
  // CHECK: math.exp
  // CHECK: } else {
  // CHECK: math.exp
  // CHECK: gpu.barrier
  // CHECK: nvgpu.ldmatrix
  // CHECK: nvvm.mma.sync
  // CHECK: arith.cmpi sle
  // The state update decays each row of K^T by its feature's decay.
  // CHECK: nvgpu.ldmatrix %{{.*}} {numTiles = 4 : i32, transpose = true}
  // CHECK: math.exp
  // CHECK: nvvm.mma.sync
  gpu.func @gla_scores(%q: memref<?x2x?x64xbf16, strided<[?, ?, ?, 1], offset: ?>>,
                       %g: memref<?x2x?x64xf32, strided<[?, ?, ?, 1], offset: ?>>,
                       %o: memref<?x2x?x64xf32>, %s: memref<?x2x64x64xf32>,
                       %b: index, %h: index, %t0: index, %n: index) kernel
      attributes {known_block_size = array<i32: 128, 1, 1>} {
    %c0 = arith.constant 0 : index
    %zero = arith.constant 0.0 : f32
    %x = attn_tile.load %q[%b, %h, %t0, %c0] rows_below %n
        : memref<?x2x?x64xbf16, strided<[?, ?, ?, 1], offset: ?>>
          -> !attn_tile.tile<64x64xbf16, #attn_tile.shared>
    %gates = attn_tile.load %g[%b, %h, %t0, %c0] rows_below %n
        : memref<?x2x?x64xf32, strided<[?, ?, ?, 1], offset: ?>>
          -> !attn_tile.tile<64x64xf32, #attn_tile.shared>
    %p = attn_tile.cumsum %gates : !attn_tile.tile<64x64xf32, #attn_tile.shared>
    %scores = attn_tile.decayed_scores %x, %x, %p
        : !attn_tile.tile<64x64xbf16, #attn_tile.shared>,
          !attn_tile.tile<64x64xbf16, #attn_tile.shared>,
          !attn_tile.tile<64x64xf32, #attn_tile.shared>
          -> !attn_tile.tile<64x64xf32, #mma>
    attn_tile.store %scores, %o[%b, %h, %t0, %c0] rows_below %n
        : !attn_tile.tile<64x64xf32, #mma> -> memref<?x2x?x64xf32>
    %s0 = attn_tile.splat %zero : f32 -> !attn_tile.tile<64x64xf32, #mma>
    %s1 = attn_tile.state_update %s0, %x, %x log_decay %p
        : !attn_tile.tile<64x64xf32, #mma>,
          !attn_tile.tile<64x64xbf16, #attn_tile.shared>,
          !attn_tile.tile<64x64xbf16, #attn_tile.shared>,
          !attn_tile.tile<64x64xf32, #attn_tile.shared>
    attn_tile.store %s1, %s[%b, %h, %c0, %c0]
        : !attn_tile.tile<64x64xf32, #mma> -> memref<?x2x64x64xf32>
    gpu.return
  }

  // A gate per token. The decay mask scales the row and column logs by
  // log2(e) once per thread, then takes one exp2 of a difference per
  // element. The state update scales K^T's A fragments by their tokens'
  // decays, exp2(last log2(e) - p log2(e)), once per 16 state rows; a
  // 128-row state has two per warp, read before the B fragments of V,
  // each of which is read once, unscaled, for both.
  // CHECK-LABEL: gpu.func @token_decays
  // CHECK: %[[R0:.*]] = arith.mulf %{{.*}}, %[[LOG2E:.*]] : f32
  // CHECK-NEXT: arith.mulf %{{.*}}, %[[LOG2E]] : f32
  // CHECK: %[[C0:.*]] = arith.mulf %{{.*}}, %[[LOG2E]] : f32
  // CHECK-COUNT-15: arith.mulf %{{.*}}, %[[LOG2E]] : f32
  // CHECK-NOT: arith.mulf
  // CHECK: %[[D:.*]] = arith.subf %[[R0]], %[[C0]] : f32
  // CHECK-NEXT: math.exp2 %[[D]]
  // The state update: the state's decay, then the tokens' decays.
  // CHECK: memref.load %{{.*}}[%c63{{.*}}] : memref<64xf32, #gpu.address_space<workgroup>>
  // CHECK: %[[DECAY:.*]] = math.exp2
  // CHECK-COUNT-32: arith.mulf %{{.*}}, %[[DECAY]] : f32
  // CHECK: %[[LAST:.*]] = memref.load %{{.*}}[%c63{{.*}}] : memref<64xf32, #gpu.address_space<workgroup>>
  // CHECK: %[[LAST2:.*]] = arith.mulf %[[LAST]]
  // CHECK: arith.subf %[[LAST2]]
  // CHECK-NEXT: math.exp2
  // CHECK: nvgpu.ldmatrix {{.*}} : memref<64x136xbf16, {{.*}}>
  // CHECK: arith.extf
  // CHECK-NEXT: arith.mulf
  // CHECK-NEXT: arith.truncf
  // CHECK: nvgpu.ldmatrix {{.*}} : memref<64x136xbf16, {{.*}}>
  // CHECK: nvgpu.ldmatrix {{.*}} : memref<64x40xbf16, {{.*}}>
  // CHECK-NOT: arith.extf
  // CHECK: nvvm.mma.sync A[%[[A0:[0-9, %]+]]]  B
  // CHECK-NEXT: llvm.extractvalue
  // CHECK: nvvm.mma.sync A[%[[A0]]]  B
  // CHECK: nvvm.mma.sync A[%[[A1:[0-9, %]+]]]  B
  // CHECK: nvvm.mma.sync A[%[[A1]]]  B
  // CHECK-NOT: arith.extf
  // CHECK: nvgpu.ldmatrix {{.*}} : memref<64x40xbf16, {{.*}}>
  // CHECK-NOT: arith.extf
  // CHECK: nvvm.mma.sync A[%[[A0]]]  B
  gpu.func @token_decays(%x: memref<?x2x?x128xbf16, strided<[?, ?, ?, 1], offset: ?>>,
                         %v: memref<?x2x?x32xbf16, strided<[?, ?, ?, 1], offset: ?>>,
                         %g: memref<?x2x?xf32>, %o: memref<?x2x?x64xf32>,
                         %s: memref<?x2x128x32xf32>, %b: index, %h: index,
                         %t0: index, %n: index) kernel
      attributes {known_block_size = array<i32: 128, 1, 1>} {
    %c0 = arith.constant 0 : index
    %zero = arith.constant 0.0 : f32
    %gates = attn_tile.load %g[%b, %h, %t0] rows_below %n
        : memref<?x2x?xf32> -> !attn_tile.tile<64xf32, #attn_tile.shared>
    %p = attn_tile.cumsum %gates : !attn_tile.tile<64xf32, #attn_tile.shared>
    %pr = attn_tile.convert_layout %p
        : !attn_tile.tile<64xf32, #attn_tile.shared> -> !attn_tile.tile<64xf32, #rows>
    %pc = attn_tile.convert_layout %p
        : !attn_tile.tile<64xf32, #attn_tile.shared> -> !attn_tile.tile<64xf32, #columns>
    %mask = attn_tile.decay_mask %pr, %pc
        : (!attn_tile.tile<64xf32, #rows>, !attn_tile.tile<64xf32, #columns>)
          -> !attn_tile.tile<64x64xf32, #mma>
    attn_tile.store %mask, %o[%b, %h, %t0, %c0] rows_below %n
        : !attn_tile.tile<64x64xf32, #mma> -> memref<?x2x?x64xf32>
    %keys = attn_tile.load %x[%b, %h, %t0, %c0] rows_below %n
        : memref<?x2x?x128xbf16, strided<[?, ?, ?, 1], offset: ?>>
          -> !attn_tile.tile<64x128xbf16, #attn_tile.shared>
    %values = attn_tile.load %v[%b, %h, %t0, %c0] rows_below %n
        : memref<?x2x?x32xbf16, strided<[?, ?, ?, 1], offset: ?>>
          -> !attn_tile.tile<64x32xbf16, #attn_tile.shared>
    %s0 = attn_tile.splat %zero : f32 -> !attn_tile.tile<128x32xf32, #mma>
    %s1 = attn_tile.state_update %s0, %keys, %values log_decay %p
        : !attn_tile.tile<128x32xf32, #mma>,
          !attn_tile.tile<64x128xbf16, #attn_tile.shared>,
          !attn_tile.tile<64x32xbf16, #attn_tile.shared>,
          !attn_tile.tile<64xf32, #attn_tile.shared>
    attn_tile.store %s1, %s[%b, %h, %c0, %c0]
        : !attn_tile.tile<128x32xf32, #mma> -> memref<?x2x128x32xf32>
    gpu.return
  }

  // The decay alone: each register of the state times exp of its row's
  // last log decay, read from shared memory (one value for a gate per
  // token; one per state row for a gate per key feature).
  // CHECK-LABEL: gpu.func @decay_state
  // CHECK: %[[LAST:.*]] = memref.load %{{.*}}[%c63] : memref<64xf32, #gpu.address_space<workgroup>>
  // CHECK: %[[SCALED:.*]] = arith.mulf %[[LAST]], %{{.*}} : f32
  // CHECK: %[[DECAY:.*]] = math.exp2 %[[SCALED]]
  // CHECK-COUNT-32: arith.mulf %{{.*}}, %[[DECAY]]
  // CHECK: memref.load %{{.*}}[%c63{{.*}}, %{{.*}}] : memref<64x{{[0-9]+}}xf32, #gpu.address_space<workgroup>>
  // CHECK: arith.mulf
  // CHECK-NEXT: math.exp2
  // CHECK-NEXT: arith.mulf
  gpu.func @decay_state(%g: memref<?x2x?xf32>,
                        %gk: memref<?x2x?x64xf32, strided<[?, ?, ?, 1], offset: ?>>,
                        %s: memref<?x2x64x64xf32>, %b: index, %h: index,
                        %t0: index, %n: index) kernel
      attributes {known_block_size = array<i32: 128, 1, 1>} {
    %c0 = arith.constant 0 : index
    %one = arith.constant 1.0 : f32
    %gates = attn_tile.load %g[%b, %h, %t0] rows_below %n
        : memref<?x2x?xf32> -> !attn_tile.tile<64xf32, #attn_tile.shared>
    %p = attn_tile.cumsum %gates : !attn_tile.tile<64xf32, #attn_tile.shared>
    %keyGates = attn_tile.load %gk[%b, %h, %t0, %c0] rows_below %n
        : memref<?x2x?x64xf32, strided<[?, ?, ?, 1], offset: ?>>
          -> !attn_tile.tile<64x64xf32, #attn_tile.shared>
    %pk = attn_tile.cumsum %keyGates
        : !attn_tile.tile<64x64xf32, #attn_tile.shared>
    %d0 = attn_tile.splat %one : f32 -> !attn_tile.tile<64x64xf32, #mma>
    %d1 = attn_tile.decay_state %d0 log_decay %p
        : !attn_tile.tile<64x64xf32, #mma>,
          !attn_tile.tile<64xf32, #attn_tile.shared>
    %d2 = attn_tile.decay_state %d1 log_decay %pk
        : !attn_tile.tile<64x64xf32, #mma>,
          !attn_tile.tile<64x64xf32, #attn_tile.shared>
    attn_tile.store %d2, %s[%b, %h, %c0, %c0]
        : !attn_tile.tile<64x64xf32, #mma> -> memref<?x2x64x64xf32>
    gpu.return
  }

  // Tiles an scf.for carries are double-buffered: the load before the loop
  // and the load in its body share a ring of two regions, picked by the
  // parity of the chunk (first row / 64); the body's loads are not waited
  // for where they are issued but where the next iteration starts, and
  // after the loop. A 4-byte vector is fetched by one cp.async per entry.
  // CHECK-LABEL: gpu.func @prefetch
  // CHECK: arith.remui %{{.*}}, %c2
  // CHECK: nvvm.cp.async.wait.group 0
  // CHECK: scf.for
  // CHECK-NEXT: nvvm.cp.async.wait.group 0
  // CHECK-NEXT: gpu.barrier
  // CHECK: arith.remui %{{.*}}, %c2
  // CHECK: nvgpu.device_async_copy
  // CHECK: nvgpu.device_async_copy {{.*}}, 1, %{{.*}} : memref<1xf32
  // CHECK-NOT: nvvm.cp.async.wait.group
  // CHECK: scf.yield
  // CHECK: nvvm.cp.async.wait.group 0
  gpu.func @prefetch(%q: memref<?x2x?x64xbf16, strided<[?, ?, ?, 1], offset: ?>>,
                     %g: memref<?x2x?xf32>, %o: memref<?x2x?x64xbf16>,
                     %b: index, %h: index, %n: index, %chunks: index) kernel
      attributes {known_block_size = array<i32: 128, 1, 1>} {
    %c0 = arith.constant 0 : index
    %c1 = arith.constant 1 : index
    %c64 = arith.constant 64 : index
    %x0 = attn_tile.load %q[%b, %h, %c0, %c0] rows_below %n
        : memref<?x2x?x64xbf16, strided<[?, ?, ?, 1], offset: ?>>
          -> !attn_tile.tile<64x64xbf16, #attn_tile.shared>
    %g0 = attn_tile.load %g[%b, %h, %c0] rows_below %n
        : memref<?x2x?xf32> -> !attn_tile.tile<64xf32, #attn_tile.shared>
    %last:2 = scf.for %c = %c0 to %chunks step %c1
        iter_args(%x = %x0, %gv = %g0)
        -> (!attn_tile.tile<64x64xbf16, #attn_tile.shared>,
            !attn_tile.tile<64xf32, #attn_tile.shared>) {
      %t0 = arith.muli %c, %c64 : index
      %t1 = arith.addi %t0, %c64 : index
      %xn = attn_tile.load %q[%b, %h, %t1, %c0] rows_below %n
          : memref<?x2x?x64xbf16, strided<[?, ?, ?, 1], offset: ?>>
            -> !attn_tile.tile<64x64xbf16, #attn_tile.shared>
      %gn = attn_tile.load %g[%b, %h, %t1] rows_below %n
          : memref<?x2x?xf32> -> !attn_tile.tile<64xf32, #attn_tile.shared>
      %xr = attn_tile.convert_layout %x
          : !attn_tile.tile<64x64xbf16, #attn_tile.shared>
            -> !attn_tile.tile<64x64xbf16, #mma>
      %gr = attn_tile.convert_layout %gv
          : !attn_tile.tile<64xf32, #attn_tile.shared>
            -> !attn_tile.tile<64xf32, #rows>
      %scaled = attn_tile.map %xr, %gr {broadcast = array<i64: -1, 0>}
          : (!attn_tile.tile<64x64xbf16, #mma>, !attn_tile.tile<64xf32, #rows>)
            -> !attn_tile.tile<64x64xbf16, #mma> {
      ^bb0(%i: index, %j: index, %v: bf16, %p: f32):
        %w = arith.truncf %p : f32 to bf16
        %r = arith.mulf %v, %w : bf16
        attn_tile.yield %r : bf16
      }
      attn_tile.store %scaled, %o[%b, %h, %t0, %c0] rows_below %n
          : !attn_tile.tile<64x64xbf16, #mma> -> memref<?x2x?x64xbf16>
      scf.yield %xn, %gn : !attn_tile.tile<64x64xbf16, #attn_tile.shared>,
                           !attn_tile.tile<64xf32, #attn_tile.shared>
    }
    gpu.return
  }

  // A 16-bit store of an accumulator goes through a scratch tile: each
  // thread rounds its 32 elements to 16 pairs and, after a barrier (earlier
  // readers of the region), writes them; then each warp, after a warp
  // barrier, copies out its 16 rows in 16-byte chunks (4 a lane), those of
  // rows from %n on left out.
  // CHECK-LABEL: gpu.func @staged_store
  // CHECK-COUNT-16: vector.from_elements %{{.*}}, %{{.*}} : vector<2xbf16>
  // CHECK:          gpu.barrier
  // CHECK-COUNT-16: vector.store %{{.*}} {alignment = 4 : i64} : memref<64x72xbf16, #gpu.address_space<workgroup>>, vector<2xbf16>
  // CHECK:          nvvm.bar.warp.sync
  // CHECK-COUNT-4:  vector.store %{{.*}} {alignment = 16 : i64} : memref<?x64xbf16, strided<[?, 1], offset: ?>>, vector<8xbf16>
  // CHECK-NOT:      memref.store
  // CHECK:          gpu.return
  gpu.func @staged_store(%o: memref<?x2x?x64xbf16, strided<[?, ?, ?, 1], offset: ?>>,
                         %b: index, %h: index, %t0: index, %n: index) kernel
      attributes {known_block_size = array<i32: 128, 1, 1>} {
    %c0 = arith.constant 0 : index
    %one = arith.constant 1.0 : f32
    %x = attn_tile.splat %one : f32 -> !attn_tile.tile<64x64xf32, #mma>
    attn_tile.store %x, %o[%b, %h, %t0, %c0] rows_below %n
        : !attn_tile.tile<64x64xf32, #mma>
          -> memref<?x2x?x64xbf16, strided<[?, ?, ?, 1], offset: ?>>
    gpu.return
  }

  // A shared tile stores by 16-byte runs of a row (the delta rule's UT
  // inverses, f32): after a barrier (its writers are done), 64 x 64 f32 is
  // 1024 runs of 4, 8 a thread of 128, each a vector load from the region
  // and a vector store, those of rows from %n on left out.
  // CHECK-LABEL: gpu.func @shared_store
  // CHECK-NOT:      attn_tile.
  // CHECK-COUNT-8:  vector.load %{{.*}} {alignment = 16 : i64} : memref<64x68xf32, #gpu.address_space<workgroup>>, vector<4xf32>
  // CHECK-NEXT:     vector.store %{{.*}} {alignment = 16 : i64} : memref<?x64xf32, strided<[?, 1], offset: ?>>, vector<4xf32>
  // CHECK-NOT:      memref.store
  // CHECK:          gpu.return
  gpu.func @shared_store(%a: memref<?x64x64xf32>, %o: memref<?x64xf32>,
                         %b: index, %t0: index, %n: index) kernel
      attributes {known_block_size = array<i32: 128, 1, 1>} {
    %c0 = arith.constant 0 : index
    %l = attn_tile.load %a[%b, %c0, %c0]
        : memref<?x64x64xf32> -> !attn_tile.tile<64x64xf32, #attn_tile.shared>
    %t = attn_tile.ut_solve %l : !attn_tile.tile<64x64xf32, #attn_tile.shared>
    attn_tile.store %t, %o[%t0, %c0] rows_below %n
        : !attn_tile.tile<64x64xf32, #attn_tile.shared> -> memref<?x64xf32>
    gpu.return
  }
}
}
