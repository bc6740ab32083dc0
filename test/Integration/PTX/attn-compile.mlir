// RUN: rm -rf %t && mkdir -p %t
// RUN: attn-compile %s --chip=sm_80 --half-storage=f16 -o %t/k.ptx --dump-intermediates=%t/ir
// RUN: FileCheck %s --check-prefix=PTX < %t/k.ptx
// RUN: FileCheck %s --check-prefix=JSON < %t/k.json
// RUN: ls %t/ir | FileCheck %s --check-prefix=IR
// RUN: not attn-compile %s --chip=gfx90a -o %t/x.ptx 2>&1 | FileCheck %s --check-prefix=CHIP
// RUN: not attn-compile %s --chip=sm_70 --half-storage=bf16 -o %t/x.ptx 2>&1 | FileCheck %s --check-prefix=OLD-CHIP
// RUN: not attn-compile %s --chip=sm_120 -o %t/x.ptx 2>&1 | FileCheck %s --check-prefix=NEW-CHIP
// RUN: not attn-opt %s --attn-to-ptx="chip=sm_70" 2>&1 | FileCheck %s --check-prefix=PIPELINE-CHIP
// RUN: not attn-compile %s --half-storage=f32 -o %t/x.ptx 2>&1 | FileCheck %s --check-prefix=HALF

// PTX: .target sm_80
// PTX: .visible .entry gla_like_0_gpu(

// The manifest: entry point, launch geometry (one block per head; the
// SIMT kernel's tiles fit in shared memory, so it takes no workspace) and
// every parameter with its symbolic shape.
// JSON: "chip": "sm_80"
// JSON: "entry": "gla_like_0_gpu"
// JSON: "op": "attn.linear_attention"
// JSON: "grid_order": "heads_batch"
// JSON: "heads": 2
// JSON: "shared_bytes": {{[1-9][0-9]*}}
// JSON: "workspace_words_per_head": 0
// JSON: "name": "query"
// JSON: "dtype": "f16"
// JSON: "shape": [
// JSON-NEXT: "B",
// JSON-NEXT: 2,
// JSON-NEXT: "Nq",
// JSON-NEXT: 8
// JSON: "name": "gate"
// JSON: "dtype": "f32"
// JSON-NOT: "name": "workspace"

// IR: 0-spec.mlir
// IR: 1-gpu.mlir
// IR: 2-nvvm.mlir
// IR: 3-kernels.ptx

// CHIP: attn-compile: error: --chip: attn generates code for sm_80, sm_86, sm_87, sm_89, sm_90, sm_90a, not 'gfx90a'

// Chips LLVM knows but attn does not target are refused the same way,
// instead of aborting in the NVPTX back end (mma.sync, cp.async need sm_80;
// PTX ISA 8.0 does not reach sm_100 and later).
// OLD-CHIP: attn-compile: error: --chip: attn generates code for sm_80, sm_86, sm_87, sm_89, sm_90, sm_90a, not 'sm_70' (the tensor-core kernels need sm_80 or later, and attn emits PTX ISA 8.0)
// NEW-CHIP: not 'sm_120'
// PIPELINE-CHIP: attn generates code for sm_80, sm_86, sm_87, sm_89, sm_90, sm_90a, not 'sm_70'
// PIPELINE-CHIP-NOT: LLVM ERROR
// HALF: error: half-storage must be bf16 or f16, got 'f32'

func.func @gla_like(%q: tensor<?x2x?x8xbf16>, %k: tensor<?x2x?x8xbf16>,
                    %v: tensor<?x2x?x4xbf16>, %g: tensor<?x2x?x8xf32>)
    -> tensor<?x2x?x4xbf16> {
  %o = attn.linear_attention %q, %k, %v gate(%g : tensor<?x2x?x8xf32>)
      {causal, chunk_size = 16 : i64, gate = #attn.gate<per_key>}
      : tensor<?x2x?x8xbf16>, tensor<?x2x?x8xbf16>, tensor<?x2x?x4xbf16>
        -> tensor<?x2x?x4xbf16>
  return %o : tensor<?x2x?x4xbf16>
}
