// RUN: attn-opt %s --attn-lower-to-gpu | attn-opt --pass-pipeline='builtin.module(gpu.module(attn-tile-to-mma-sync), canonicalize)' | FileCheck %s

// A 32-key tile of head dim 144 holds 32 x 18 = 576 chunks of 16 bytes:
// four full rounds of 128 threads, then 64 chunks. The last round's
// copies are guarded so that only threads 0..63 issue one, and the group
// commits what each thread issued (here the first K tile's, before the
// key loop); the kernel stays on tensor cores.

// CHECK-LABEL: gpu.func @head_dim_144_0_gpu(
// CHECK-SAME:    known_block_size = array<i32: 128, 1, 1>
// CHECK-COUNT-4: nvgpu.device_async_copy {{.*}} to memref<32x152xbf16, #gpu.address_space<workgroup>>
// CHECK:         %[[HAS_CHUNK:.*]] = arith.cmpi ult, %thread_id_x{{.*}}, %c64
// CHECK:         scf.if %[[HAS_CHUNK]] {
// CHECK:           nvgpu.device_async_copy {{.*}} to memref<32x152xbf16, #gpu.address_space<workgroup>>
// CHECK:         }
// CHECK:         nvgpu.device_async_create_group
// CHECK:         nvvm.mma.sync
func.func @head_dim_144(%q: tensor<?x2x?x144xbf16>, %k: tensor<?x2x?x144xbf16>,
                        %v: tensor<?x2x?x144xbf16>) -> tensor<?x2x?x144xbf16> {
  %o = attn.attention %q, %k, %v
      : tensor<?x2x?x144xbf16>, tensor<?x2x?x144xbf16>, tensor<?x2x?x144xbf16>
        -> tensor<?x2x?x144xbf16>
  return %o : tensor<?x2x?x144xbf16>
}
