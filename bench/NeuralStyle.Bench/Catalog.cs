using NeuralStyle.Tensors.Kernels;

namespace NeuralStyle.Bench;

/// <summary>The cases of issue 4, full or quick.</summary>
internal static class Catalog
{
    public static List<BenchCase> All(Options o)
    {
        var cases = new List<BenchCase>();
        foreach ((string name, int ci, int co, int res) in VggConvLayers.At512)
        {
            // --quick: the same layers at half resolution (a quarter of the work).
            int r = o.Quick ? res / 2 : res;
            foreach (ConvDirection d in Enum.GetValues<ConvDirection>())
            {
                cases.Add(new ConvCase(name, ci, co, r, d));
            }

            // The layers the Gatys graph routes through Winograd F(4×4) (Winograd4x4.Wins), forward and backward to the input.
            if (Winograd4x4.Wins(ci, co, r, r))
            {
                cases.Add(new ConvCase(name, ci, co, r, ConvDirection.Forward, winograd: true));
                cases.Add(new ConvCase(name, ci, co, r, ConvDirection.BackwardInput, winograd: true));
            }
        }

        foreach ((string name, int k, int stride, int ci, int co, int res) in JohnsonConvLayers.At512)
        {
            foreach (ConvDirection d in Enum.GetValues<ConvDirection>())
            {
                cases.Add(new Conv2dCase(name, k, stride, ci, co, o.Quick ? res / 2 : res, d));
            }
        }

        int[] vggSizes = o.Quick ? [256] : [256, 512];
        foreach (bool backward in new[] { false, true })
        {
            foreach (int s in vggSizes)
            {
                cases.Add(new VggCase(s, backward));
            }
        }

        foreach (int s in o.Quick ? [256, 512] : new[] { 512, 1024 })
        {
            cases.Add(new JohnsonForwardCase(s));
        }

        cases.Add(new JohnsonMemoryCase(o.Quick ? 512 : 1024));
        cases.Add(new JohnsonTrainStepCase(4, o.Quick ? 128 : 256));
        cases.Add(new BankTrainStepCase(4, o.Quick ? 128 : 256));
        cases.Add(o.Quick ? new GatysIterationCase(256, 192) : new GatysIterationCase(512, 384));
        cases.Add(new ResNetGatysIterationCase(o.Quick ? 256 : 512));
        cases.Add(o.Quick ? new StylizeCase(256, 192, 5) : new StylizeCase(512, 384, o.StylizeIterations));
        return cases;
    }
}
