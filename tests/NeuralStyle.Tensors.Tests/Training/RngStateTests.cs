using NeuralStyle.Tensors.Training;

namespace NeuralStyle.Tensors.Tests.Training;

public class RngStateTests
{
    [Fact]
    public void ExportedState_ContinuesTheStreamExactly_IncludingTheGaussianSpare()
    {
        var a = new Rng(42);
        a.NextGaussian(); // leaves a spare pending
        RngState state = a.ExportState();
        Assert.NotNull(state.GaussianSpare);
        var b = new Rng(state);
        var c = new Rng(1);
        c.ImportState(state);
        for (int i = 0; i < 50; i++)
        {
            double expected = a.NextGaussian();
            Assert.Equal(expected, b.NextGaussian());
            Assert.Equal(expected, c.NextGaussian());
        }
        Assert.Equal(a.NextUInt64(), b.NextUInt64());
        Assert.Throws<ArgumentException>(() => new Rng(new RngState(0, 0, 0, 0, null)));
    }

    [Fact]
    public void ShuffledOrder_VisitsEveryEpochAsAPermutation_AndResumesFromItsPosition()
    {
        var order = new ShuffledOrder(7, new Rng(5));
        var first = Enumerable.Range(0, 7).Select(_ => order.Next()).ToArray();
        var second = Enumerable.Range(0, 7).Select(_ => order.Next()).ToArray();
        Assert.Equal(Enumerable.Range(0, 7), first.Order());
        Assert.Equal(Enumerable.Range(0, 7), second.Order());
        Assert.NotEqual(first, second);
        Assert.Equal(1, order.Epoch);

        var rng = new Rng(11);
        var straight = new ShuffledOrder(5, rng);
        var batch = new int[3];
        straight.NextBatch(batch);
        straight.NextBatch(batch); // spans into the second epoch
        DataPosition pos = straight.ExportPosition();
        var resumed = new ShuffledOrder(5, new Rng(rng.ExportState()));
        resumed.ImportPosition(pos);
        for (int i = 0; i < 12; i++) Assert.Equal(straight.Next(), resumed.Next());

        Assert.Throws<ArgumentException>(() => new ShuffledOrder(4, new Rng(1)).ImportPosition(pos));
        Assert.Throws<ArgumentException>(() => new ShuffledOrder(5, new Rng(1)).ImportPosition(pos with { Permutation = [0, 0, 1, 2, 3] }));
    }
}
