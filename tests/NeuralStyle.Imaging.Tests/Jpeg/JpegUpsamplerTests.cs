using NeuralStyle.Imaging.Jpeg;

namespace NeuralStyle.Imaging.Tests.Jpeg;

/// <summary>The fancy upsamplers against straightforward transcriptions of libjpeg-turbo's jdsample.c loops.</summary>
public class JpegUpsamplerTests
{
    private static byte[] H2V1Reference(byte[] s)
    {
        int dw = s.Length;
        var o = new byte[2 * dw];
        o[0] = s[0];
        o[1] = (byte)((s[0] * 3 + s[1] + 2) >> 2);
        for (int c = 1; c < dw - 1; c++)
        {
            o[2 * c] = (byte)((s[c] * 3 + s[c - 1] + 1) >> 2);
            o[2 * c + 1] = (byte)((s[c] * 3 + s[c + 1] + 2) >> 2);
        }
        o[2 * dw - 2] = (byte)((s[dw - 1] * 3 + s[dw - 2] + 1) >> 2);
        o[2 * dw - 1] = s[dw - 1];
        return o;
    }

    private static byte[] H2V2Reference(byte[] near, byte[] far)
    {
        int dw = near.Length;
        var sum = new int[dw];
        for (int i = 0; i < dw; i++) sum[i] = near[i] * 3 + far[i];
        var o = new byte[2 * dw];
        o[0] = (byte)((sum[0] * 4 + 8) >> 4);
        o[1] = (byte)((sum[0] * 3 + sum[1] + 7) >> 4);
        for (int c = 1; c < dw - 1; c++)
        {
            o[2 * c] = (byte)((sum[c] * 3 + sum[c - 1] + 8) >> 4);
            o[2 * c + 1] = (byte)((sum[c] * 3 + sum[c + 1] + 7) >> 4);
        }
        o[2 * dw - 2] = (byte)((sum[dw - 1] * 3 + sum[dw - 2] + 8) >> 4);
        o[2 * dw - 1] = (byte)((sum[dw - 1] * 4 + 7) >> 4);
        return o;
    }

    [Fact]
    public void FancyRows_AllWidthsAndExtremes_MatchReference()
    {
        var rng = new Random(3);
        foreach (int dw in Enumerable.Range(3, 70).Concat([127, 128, 129, 1000]))
        {
            for (int trial = 0; trial < 4; trial++)
            {
                var near = new byte[dw];
                var far = new byte[dw];
                for (int i = 0; i < dw; i++)
                {
                    near[i] = trial == 0 ? (byte)255 : (byte)rng.Next(256);
                    far[i] = trial == 0 ? (byte)255 : trial == 1 ? (byte)0 : (byte)rng.Next(256);
                }
                var dst = new byte[2 * dw];
                JpegUpsampler.H2V1FancyRow(near, dst);
                Assert.Equal(H2V1Reference(near), dst);
                JpegUpsampler.H2V2FancyRow(near, far, new ushort[dw], dst);
                Assert.Equal(H2V2Reference(near, far), dst);
            }
        }
    }
}
