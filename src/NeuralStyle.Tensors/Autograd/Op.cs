using System.Numerics.Tensors;
using NeuralStyle.Tensors.Kernels;

namespace NeuralStyle.Tensors.Autograd;

// Every primitive operation of the engine is an Op: forward beside backward, one gradient rule per op, grouped by
// family in the files beside this one (ConvOps, PoolingOps, ElementwiseOps, ReductionOps, ShapeOps, PyramidOps).
// Forward writes y.Data from the inputs' data; Backward reads y.Grad and adds d(loss)/d(input) to every input that
// requires a gradient, always through Graph.BeginGrad/EndGrad (overwriting kernels) or Graph.AccumulateGrad
// (kernels that add into their destination), so every input of every op, leaf or computed, receives its gradient.

internal abstract class Op
{
    protected Op(int[] outputShape, params Value[] inputs)
    {
        OutputShape = outputShape;
        Inputs = inputs;
    }

    public int[] OutputShape { get; }
    public Value[] Inputs { get; }

    /// <summary>When set, the output shares this input's data buffer (identity-forward ops).</summary>
    public virtual Value? AliasInput => null;

    /// <summary>
    /// Whether <see cref="Backward"/> reads the data of input <paramref name="index"/>. The memory plan keeps an
    /// activation after the forward pass only while some backward rule reads it; answer false only when sure.
    /// </summary>
    public virtual bool BackwardReadsInput(int index) => true;

    /// <summary>Whether <see cref="Backward"/> reads this op's own output data.</summary>
    public virtual bool BackwardReadsOutput => true;

    /// <summary>Bytes of private buffers the op holds for its whole life (scratch planes), for the memory plan.</summary>
    public virtual long WorkspaceBytes => 0;

    public abstract void Forward(Value y);
    public abstract void Backward(Value y);

    protected static void RequireRank(Value x, int rank, string op)
    {
        if (x.Rank != rank) throw new ArgumentException($"{op} expects a rank-{rank} tensor, got [{string.Join(",", x.Shape)}].");
    }
}
