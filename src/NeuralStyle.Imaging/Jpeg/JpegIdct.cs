namespace NeuralStyle.Imaging.Jpeg;

/// <summary>
/// Accurate integer inverse DCT, the same arithmetic as libjpeg's <c>jpeg_idct_islow</c> (jidctint.c), so the
/// output is bit-identical to djpeg's default DCT method.
/// </summary>
internal static partial class JpegIdct
{
    private const int ConstBits = 13;
    private const int Pass1Bits = 2;
    private const int Fix0298631336 = 2446;
    private const int Fix0390180644 = 3196;
    private const int Fix0541196100 = 4433;
    private const int Fix0765366865 = 6270;
    private const int Fix0899976223 = 7373;
    private const int Fix1175875602 = 9633;
    private const int Fix1501321110 = 12299;
    private const int Fix1847759065 = 15137;
    private const int Fix1961570560 = 16069;
    private const int Fix2053119869 = 16819;
    private const int Fix2562915447 = 20995;
    private const int Fix3072711026 = 25172;

    /// <summary>coef (64, natural order) × quant (64) -> 8×8 samples written at output[y*stride + x].</summary>
    public static unsafe void Transform(short* coef, ushort* quant, byte* output, int stride)
    {
        if (System.Runtime.Intrinsics.X86.Avx2.IsSupported) TransformAvx2(coef, quant, output, stride);
        else TransformScalar(coef, quant, output, stride);
    }

    /// <summary>The plain scalar islow IDCT (reference for the vector version, and the fallback).</summary>
    public static unsafe void TransformScalar(short* coef, ushort* quant, byte* output, int stride)
    {
        int* ws = stackalloc int[64];
        for (int col = 0; col < 8; col++)
        {
            short* inp = coef + col;
            ushort* q = quant + col;
            int* w = ws + col;
            if (inp[8] == 0 && inp[16] == 0 && inp[24] == 0 && inp[32] == 0 && inp[40] == 0 && inp[48] == 0 && inp[56] == 0)
            {
                int dc = (inp[0] * q[0]) << Pass1Bits;
                w[0] = dc; w[8] = dc; w[16] = dc; w[24] = dc; w[32] = dc; w[40] = dc; w[48] = dc; w[56] = dc;
                continue;
            }

            int z2 = inp[16] * q[16], z3 = inp[48] * q[48];
            int z1 = (z2 + z3) * Fix0541196100;
            int tmp2 = z1 + z3 * -Fix1847759065;
            int tmp3 = z1 + z2 * Fix0765366865;
            z2 = inp[0] * q[0];
            z3 = inp[32] * q[32];
            int tmp0 = (z2 + z3) << ConstBits;
            int tmp1 = (z2 - z3) << ConstBits;
            int tmp10 = tmp0 + tmp3, tmp13 = tmp0 - tmp3, tmp11 = tmp1 + tmp2, tmp12 = tmp1 - tmp2;

            tmp0 = inp[56] * q[56];
            tmp1 = inp[40] * q[40];
            tmp2 = inp[24] * q[24];
            tmp3 = inp[8] * q[8];
            Odd(ref tmp0, ref tmp1, ref tmp2, ref tmp3);

            const int s1 = ConstBits - Pass1Bits;
            const int r1 = 1 << (s1 - 1);
            w[0] = (tmp10 + tmp3 + r1) >> s1;
            w[56] = (tmp10 - tmp3 + r1) >> s1;
            w[8] = (tmp11 + tmp2 + r1) >> s1;
            w[48] = (tmp11 - tmp2 + r1) >> s1;
            w[16] = (tmp12 + tmp1 + r1) >> s1;
            w[40] = (tmp12 - tmp1 + r1) >> s1;
            w[24] = (tmp13 + tmp0 + r1) >> s1;
            w[32] = (tmp13 - tmp0 + r1) >> s1;
        }

        for (int row = 0; row < 8; row++)
        {
            int* w = ws + row * 8;
            byte* o = output + row * stride;
            const int s2 = ConstBits + Pass1Bits + 3;
            const int r2 = 1 << (s2 - 1);

            int z2 = w[2], z3 = w[6];
            int z1 = (z2 + z3) * Fix0541196100;
            int tmp2 = z1 + z3 * -Fix1847759065;
            int tmp3 = z1 + z2 * Fix0765366865;
            int tmp0 = (w[0] + w[4]) << ConstBits;
            int tmp1 = (w[0] - w[4]) << ConstBits;
            int tmp10 = tmp0 + tmp3, tmp13 = tmp0 - tmp3, tmp11 = tmp1 + tmp2, tmp12 = tmp1 - tmp2;

            tmp0 = w[7];
            tmp1 = w[5];
            tmp2 = w[3];
            tmp3 = w[1];
            Odd(ref tmp0, ref tmp1, ref tmp2, ref tmp3);

            o[0] = Clamp(((tmp10 + tmp3 + r2) >> s2) + 128);
            o[7] = Clamp(((tmp10 - tmp3 + r2) >> s2) + 128);
            o[1] = Clamp(((tmp11 + tmp2 + r2) >> s2) + 128);
            o[6] = Clamp(((tmp11 - tmp2 + r2) >> s2) + 128);
            o[2] = Clamp(((tmp12 + tmp1 + r2) >> s2) + 128);
            o[5] = Clamp(((tmp12 - tmp1 + r2) >> s2) + 128);
            o[3] = Clamp(((tmp13 + tmp0 + r2) >> s2) + 128);
            o[4] = Clamp(((tmp13 - tmp0 + r2) >> s2) + 128);
        }
    }

    // Odd part of the 8-point IDCT (tmp0..tmp3 are inputs 7,5,3,1 and come back as the odd outputs).
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    private static void Odd(ref int tmp0, ref int tmp1, ref int tmp2, ref int tmp3)
    {
        int z1 = tmp0 + tmp3, z2 = tmp1 + tmp2, z3 = tmp0 + tmp2, z4 = tmp1 + tmp3;
        int z5 = (z3 + z4) * Fix1175875602;
        tmp0 *= Fix0298631336;
        tmp1 *= Fix2053119869;
        tmp2 *= Fix3072711026;
        tmp3 *= Fix1501321110;
        z1 *= -Fix0899976223;
        z2 *= -Fix2562915447;
        z3 *= -Fix1961570560;
        z4 *= -Fix0390180644;
        z3 += z5;
        z4 += z5;
        tmp0 += z1 + z3;
        tmp1 += z2 + z4;
        tmp2 += z2 + z3;
        tmp3 += z1 + z4;
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    private static byte Clamp(int v) => (byte)(v < 0 ? 0 : v > 255 ? 255 : v);
}
