using NeuralStyle.Tensors.Kernels;

namespace NeuralStyle.Tensors.Tests.Kernels;

/// <summary>Tests that change <see cref="KernelThreading.MaxDegree"/> (a process-wide setting) run in this collection, one at a time.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class KernelThreadingCollection
{
    public const string Name = "Kernel threading";

    /// <summary>Sets MaxDegree until disposed.</summary>
    public static IDisposable Degree(int degree) => new Restore(degree);

    private sealed class Restore : IDisposable
    {
        private readonly int previous = KernelThreading.MaxDegree;

        public Restore(int degree) => KernelThreading.MaxDegree = degree;

        public void Dispose() => KernelThreading.MaxDegree = previous;
    }
}
