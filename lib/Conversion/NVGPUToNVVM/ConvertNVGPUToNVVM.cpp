//===- ConvertNVGPUToNVVM.cpp - nvgpu ops to NVVM, 32-bit indices ---------===//
//
/// \file
/// The tensor-core kernels load their operands with nvgpu.ldmatrix and
/// stage tiles with nvgpu.device_async_copy. Upstream's patterns lower
/// those; this pass runs them with the 32-bit index type the rest of the
/// kernel is lowered with, so that no i32/i64 index casts are left over.
//
//===----------------------------------------------------------------------===//

#include "attn/Transforms/Passes.h"
#include "mlir/Conversion/LLVMCommon/ConversionTarget.h"
#include "mlir/Conversion/LLVMCommon/TypeConverter.h"
#include "mlir/Conversion/NVGPUToNVVM/NVGPUToNVVM.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/NVGPU/IR/NVGPUDialect.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Transforms/DialectConversion.h"

namespace mlir::attn {
#define GEN_PASS_DEF_ATTNCONVERTNVGPUTONVVMPASS
#include "attn/Dialect/Attn/IR/AttnPasses.h.inc"
} // namespace mlir::attn

using namespace mlir;

namespace {
struct AttnConvertNVGPUToNVVMPass
    : public attn::impl::AttnConvertNVGPUToNVVMPassBase<
          AttnConvertNVGPUToNVVMPass> {
  void runOnOperation() override {
    MLIRContext *context = &getContext();
    LowerToLLVMOptions options(context);
    options.overrideIndexBitwidth(32);
    LLVMTypeConverter converter(context, options);
    nvgpu::populateCommonGPUTypeAndAttributeConversions(converter);
    converter.addConversion([&](nvgpu::DeviceAsyncTokenType) -> Type {
      return IntegerType::get(context, 32);
    });
    RewritePatternSet patterns(context);
    populateNVGPUToNVVMConversionPatterns(converter, patterns);

    ConversionTarget target(*context);
    target.addLegalDialect<LLVM::LLVMDialect, NVVM::NVVMDialect,
                           arith::ArithDialect, memref::MemRefDialect,
                           vector::VectorDialect>();
    target.addLegalOp<UnrealizedConversionCastOp>();
    target.addIllegalDialect<nvgpu::NVGPUDialect>();
    target.markUnknownOpDynamicallyLegal([](Operation *) { return true; });
    if (failed(applyPartialConversion(getOperation(), target,
                                      std::move(patterns))))
      signalPassFailure();
  }
};
} // namespace
