using System.Runtime.Intrinsics.X86;
using NeuralStyle.Imaging.Jpeg;

namespace NeuralStyle.Imaging.Tests.Jpeg;

public class JpegIdctTests
{
    /// <summary>The AVX2 IDCT must be bit-identical to the scalar islow reference on realistic and extreme blocks.</summary>
    [Fact]
    public unsafe void TransformAvx2_RandomBlocks_EqualsScalarReference()
    {
        if (!Avx2.IsSupported) return; // nothing to compare on this CPU: the scalar path is the only one used
        var rng = new Random(42);
        short* coef = stackalloc short[64];
        ushort* quant = stackalloc ushort[64];
        const int stride = 11; // not 8: checks row addressing
        byte* a = stackalloc byte[8 * stride];
        byte* b = stackalloc byte[8 * stride];
        for (int trial = 0; trial < 20000; trial++)
        {
            int kind = trial % 4;
            for (int i = 0; i < 64; i++)
            {
                quant[i] = (ushort)(kind == 3 ? rng.Next(1, 256) : rng.Next(1, 40));
                int range = kind switch { 0 => 8, 1 => 64, 2 => 1024, _ => 4 };
                coef[i] = (short)(rng.Next(4) == 0 || kind == 2 ? rng.Next(-range, range + 1) : 0);
            }
            if (kind == 0) coef[0] = (short)rng.Next(-128, 128);
            JpegIdct.TransformScalar(coef, quant, a, stride);
            JpegIdct.TransformAvx2(coef, quant, b, stride);
            for (int r = 0; r < 8; r++)
                for (int c = 0; c < 8; c++)
                    Assert.True(a[r * stride + c] == b[r * stride + c], $"trial {trial}: ({r},{c}) scalar {a[r * stride + c]} avx2 {b[r * stride + c]}");
        }
    }
}
