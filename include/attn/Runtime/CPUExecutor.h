//===- CPUExecutor.h - Run attn kernels on the host CPU ---------*- C++ -*-===//
//
/// \file
/// JIT-compiles a module of attn kernels for the host CPU through MLIR's
/// ExecutionEngine and runs them on host tensors.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_RUNTIME_CPUEXECUTOR_H
#define ATTN_RUNTIME_CPUEXECUTOR_H

#include "attn/Runtime/HostTensor.h"
#include "mlir/IR/BuiltinOps.h"
#include "llvm/ADT/ArrayRef.h"
#include "llvm/Support/Error.h"
#include <memory>

namespace mlir {
class ExecutionEngine;
} // namespace mlir

namespace mlir::attn::runtime {

class CPUExecutor {
public:
  ~CPUExecutor();

  /// Lowers `module`, which must hold only kernels (functions over strided
  /// memrefs marked for the C interface), to LLVM and JIT-compiles it at -O2.
  static llvm::Expected<std::unique_ptr<CPUExecutor>> create(ModuleOp module);

  /// Looks kernel `name` up, compiling it if the JIT has not yet, so that a
  /// following run measures the kernel alone.
  llvm::Error prepare(llvm::StringRef name);

  /// Runs kernel `name` with `args` bound to its arguments in order. The
  /// caller guarantees that the tensors match the kernel's signature.
  llvm::Error run(llvm::StringRef name, llvm::MutableArrayRef<HostTensor> args);

private:
  explicit CPUExecutor(std::unique_ptr<ExecutionEngine> engine);
  std::unique_ptr<ExecutionEngine> engine;
};

} // namespace mlir::attn::runtime

#endif // ATTN_RUNTIME_CPUEXECUTOR_H
