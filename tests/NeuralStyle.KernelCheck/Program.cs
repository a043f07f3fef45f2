// Runs every representative kernel comparison at MaxDegree 1 and 2; prints the instruction set in use
// ("isa: Vector512|Vector256|Scalar") and exits 1 on the first mismatch, 0 when all match.
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using NeuralStyle.Tensors.Kernels;
using NeuralStyle.Tensors.Tests.Kernels;

string isa = Vector512.IsHardwareAccelerated ? "Vector512"
    : Vector256.IsHardwareAccelerated && Fma.IsSupported ? "Vector256" : "Scalar";
Console.WriteLine($"isa: {isa}");
if (KernelThreading.MaxDegree != Environment.ProcessorCount)
{
    // A fresh process must start with the documented default.
    Console.WriteLine($"MISMATCH: KernelThreading.MaxDegree defaults to {KernelThreading.MaxDegree}, not the processor count {Environment.ProcessorCount}");
    return 1;
}

int checkedCount = 0;
foreach (int degree in new[] { 1, 2 })
{
    KernelThreading.MaxDegree = degree;
    foreach (var comparison in KernelComparisons.RepresentativeCases())
    {
        string? failure = comparison();
        checkedCount++;
        if (failure is not null)
        {
            Console.WriteLine($"MISMATCH (MaxDegree {degree}): {failure}");
            return 1;
        }
    }
}

Console.WriteLine($"ok: {checkedCount} comparisons");
return 0;
