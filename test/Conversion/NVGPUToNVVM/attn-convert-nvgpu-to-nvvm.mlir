// RUN: attn-opt %s --pass-pipeline="builtin.module(gpu.module(attn-convert-nvgpu-to-nvvm))" | FileCheck %s

// The index operands of ldmatrix and cp.async are converted with 32-bit
// indices: address arithmetic is i32 and no cast to i64 is left.
// CHECK-LABEL: gpu.func @stage_and_load
// CHECK-NOT:     i64
// CHECK:         nvvm.cp.async.shared.global {{.*}}, 16, cache = cg
// CHECK:         nvvm.cp.async.commit.group
// CHECK:         nvvm.cp.async.wait.group 0
// CHECK:         nvvm.ldmatrix {{.*}} {eltType = #nvvm.ld_st_matrix_elt_type<b16>, layout = #nvvm.mma_layout<row>, num = 4 : i32, shape = #nvvm.ld_st_matrix_shape<m = 8, n = 8>}
// CHECK-NOT:     nvgpu.
// CHECK:         gpu.return
gpu.module @kernels {
  gpu.func @stage_and_load(%src: memref<?x64xbf16>, %row: index, %col: index,
                           %n: index) kernel {
    %smem = gpu.dynamic_shared_memory : memref<?xi8, #gpu.address_space<workgroup>>
    %c0 = arith.constant 0 : index
    %tile = memref.view %smem[%c0][] : memref<?xi8, #gpu.address_space<workgroup>>
        to memref<64x64xbf16, #gpu.address_space<workgroup>>
    %t = nvgpu.device_async_copy %src[%row, %col], %tile[%row, %col], 8, %n {bypassL1}
        : memref<?x64xbf16> to memref<64x64xbf16, #gpu.address_space<workgroup>>
    %g = nvgpu.device_async_create_group %t
    nvgpu.device_async_wait %g {numGroups = 0 : i32}
    %frag = nvgpu.ldmatrix %tile[%row, %col] {numTiles = 4 : i32, transpose = false}
        : memref<64x64xbf16, #gpu.address_space<workgroup>> -> vector<4x2xbf16>
    gpu.return
  }
}
