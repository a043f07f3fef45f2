using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace NeuralStyle.Imaging.Jpeg;

/// <summary>AVX2 islow IDCT: the same integer arithmetic as <see cref="JpegIdct.TransformScalar"/>, eight lanes at once.</summary>
internal static partial class JpegIdct
{
    // coef (8 rows × 8 cols, int16) × quant -> 8×8 bytes. Pass 1 works on columns (one lane per column, one vector per
    // row), the block is transposed, pass 2 works on rows the same way, transposed back, packed with saturation.
    public static unsafe void TransformAvx2(short* coef, ushort* quant, byte* output, int stride)
    {
        Vector256<int> r0 = Load(coef, quant, 0), r1 = Load(coef, quant, 1), r2 = Load(coef, quant, 2), r3 = Load(coef, quant, 3);
        Vector256<int> r4 = Load(coef, quant, 4), r5 = Load(coef, quant, 5), r6 = Load(coef, quant, 6), r7 = Load(coef, quant, 7);

        Pass(ref r0, ref r1, ref r2, ref r3, ref r4, ref r5, ref r6, ref r7, ConstBits - Pass1Bits);
        Transpose(ref r0, ref r1, ref r2, ref r3, ref r4, ref r5, ref r6, ref r7);
        Pass(ref r0, ref r1, ref r2, ref r3, ref r4, ref r5, ref r6, ref r7, ConstBits + Pass1Bits + 3);
        Transpose(ref r0, ref r1, ref r2, ref r3, ref r4, ref r5, ref r6, ref r7);

        var bias = Vector256.Create(128);
        var p01 = Avx2.PackSignedSaturate(r0 + bias, r1 + bias);
        var p23 = Avx2.PackSignedSaturate(r2 + bias, r3 + bias);
        var p45 = Avx2.PackSignedSaturate(r4 + bias, r5 + bias);
        var p67 = Avx2.PackSignedSaturate(r6 + bias, r7 + bias);
        var order = Vector256.Create(0, 4, 1, 5, 2, 6, 3, 7);
        var b0 = Avx2.PermuteVar8x32(Avx2.PackUnsignedSaturate(p01, p23).AsInt32(), order).AsUInt64();
        var b1 = Avx2.PermuteVar8x32(Avx2.PackUnsignedSaturate(p45, p67).AsInt32(), order).AsUInt64();
        *(ulong*)output = b0.GetElement(0);
        *(ulong*)(output + stride) = b0.GetElement(1);
        *(ulong*)(output + 2 * stride) = b0.GetElement(2);
        *(ulong*)(output + 3 * stride) = b0.GetElement(3);
        *(ulong*)(output + 4 * stride) = b1.GetElement(0);
        *(ulong*)(output + 5 * stride) = b1.GetElement(1);
        *(ulong*)(output + 6 * stride) = b1.GetElement(2);
        *(ulong*)(output + 7 * stride) = b1.GetElement(3);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe Vector256<int> Load(short* coef, ushort* quant, int row)
    {
        var c = Avx2.ConvertToVector256Int32(coef + row * 8);
        var q = Avx2.ConvertToVector256Int32(quant + row * 8);
        return c * q;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Pass(ref Vector256<int> i0, ref Vector256<int> i1, ref Vector256<int> i2, ref Vector256<int> i3,
        ref Vector256<int> i4, ref Vector256<int> i5, ref Vector256<int> i6, ref Vector256<int> i7, int shift)
    {
        var z2 = i2;
        var z3 = i6;
        var z1 = (z2 + z3) * Vector256.Create(Fix0541196100);
        var tmp2 = z1 + z3 * Vector256.Create(-Fix1847759065);
        var tmp3 = z1 + z2 * Vector256.Create(Fix0765366865);
        var tmp0 = Vector256.ShiftLeft(i0 + i4, ConstBits);
        var tmp1 = Vector256.ShiftLeft(i0 - i4, ConstBits);
        var tmp10 = tmp0 + tmp3;
        var tmp13 = tmp0 - tmp3;
        var tmp11 = tmp1 + tmp2;
        var tmp12 = tmp1 - tmp2;

        var o0 = i7;
        var o1 = i5;
        var o2 = i3;
        var o3 = i1;
        z1 = o0 + o3;
        z2 = o1 + o2;
        z3 = o0 + o2;
        var z4 = o1 + o3;
        var z5 = (z3 + z4) * Vector256.Create(Fix1175875602);
        o0 *= Vector256.Create(Fix0298631336);
        o1 *= Vector256.Create(Fix2053119869);
        o2 *= Vector256.Create(Fix3072711026);
        o3 *= Vector256.Create(Fix1501321110);
        z1 *= Vector256.Create(-Fix0899976223);
        z2 *= Vector256.Create(-Fix2562915447);
        z3 = z3 * Vector256.Create(-Fix1961570560) + z5;
        z4 = z4 * Vector256.Create(-Fix0390180644) + z5;
        o0 += z1 + z3;
        o1 += z2 + z4;
        o2 += z2 + z3;
        o3 += z1 + z4;

        var round = Vector256.Create(1 << (shift - 1));
        i0 = Vector256.ShiftRightArithmetic(tmp10 + o3 + round, shift);
        i7 = Vector256.ShiftRightArithmetic(tmp10 - o3 + round, shift);
        i1 = Vector256.ShiftRightArithmetic(tmp11 + o2 + round, shift);
        i6 = Vector256.ShiftRightArithmetic(tmp11 - o2 + round, shift);
        i2 = Vector256.ShiftRightArithmetic(tmp12 + o1 + round, shift);
        i5 = Vector256.ShiftRightArithmetic(tmp12 - o1 + round, shift);
        i3 = Vector256.ShiftRightArithmetic(tmp13 + o0 + round, shift);
        i4 = Vector256.ShiftRightArithmetic(tmp13 - o0 + round, shift);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void Transpose(ref Vector256<int> r0, ref Vector256<int> r1, ref Vector256<int> r2, ref Vector256<int> r3,
        ref Vector256<int> r4, ref Vector256<int> r5, ref Vector256<int> r6, ref Vector256<int> r7)
    {
        var t0 = Avx2.UnpackLow(r0, r1);
        var t1 = Avx2.UnpackHigh(r0, r1);
        var t2 = Avx2.UnpackLow(r2, r3);
        var t3 = Avx2.UnpackHigh(r2, r3);
        var t4 = Avx2.UnpackLow(r4, r5);
        var t5 = Avx2.UnpackHigh(r4, r5);
        var t6 = Avx2.UnpackLow(r6, r7);
        var t7 = Avx2.UnpackHigh(r6, r7);
        var u0 = Avx2.UnpackLow(t0.AsInt64(), t2.AsInt64()).AsInt32();
        var u1 = Avx2.UnpackHigh(t0.AsInt64(), t2.AsInt64()).AsInt32();
        var u2 = Avx2.UnpackLow(t1.AsInt64(), t3.AsInt64()).AsInt32();
        var u3 = Avx2.UnpackHigh(t1.AsInt64(), t3.AsInt64()).AsInt32();
        var u4 = Avx2.UnpackLow(t4.AsInt64(), t6.AsInt64()).AsInt32();
        var u5 = Avx2.UnpackHigh(t4.AsInt64(), t6.AsInt64()).AsInt32();
        var u6 = Avx2.UnpackLow(t5.AsInt64(), t7.AsInt64()).AsInt32();
        var u7 = Avx2.UnpackHigh(t5.AsInt64(), t7.AsInt64()).AsInt32();
        r0 = Avx2.Permute2x128(u0, u4, 0x20);
        r1 = Avx2.Permute2x128(u1, u5, 0x20);
        r2 = Avx2.Permute2x128(u2, u6, 0x20);
        r3 = Avx2.Permute2x128(u3, u7, 0x20);
        r4 = Avx2.Permute2x128(u0, u4, 0x31);
        r5 = Avx2.Permute2x128(u1, u5, 0x31);
        r6 = Avx2.Permute2x128(u2, u6, 0x31);
        r7 = Avx2.Permute2x128(u3, u7, 0x31);
    }
}
