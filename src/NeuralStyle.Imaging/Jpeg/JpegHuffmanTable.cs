namespace NeuralStyle.Imaging.Jpeg;

/// <summary>A decoding Huffman table (ITU T.81 Annex C / F.2.2.3) with a 9-bit fast lookup.</summary>
internal sealed class JpegHuffmanTable
{
    public const int LookupBits = 9;

    // Fast path: index by the next LookupBits bits; entry = (length << 8) | value, 0 when the code is longer.
    public readonly ushort[] Lookup = new ushort[1 << LookupBits];
    public readonly int[] MaxCode = new int[18];   // MaxCode[l]: largest code of length l (left-aligned to l bits), -1 if none
    public readonly int[] ValOffset = new int[18]; // value index = code + ValOffset[l]
    public readonly byte[] Values = new byte[256];

    // AC fast path (as stb_image / libjpeg-turbo do): when a code and its magnitude bits fit in LookupBits, the entry
    // holds the decoded coefficient: (value << 8) | (run << 4) | (code length + magnitude bits); 0 = not available.
    public readonly int[] FastAc = new int[1 << LookupBits];

    /// <summary>Builds the table from the 16 code-length counts and the symbol values of a DHT segment.</summary>
    public JpegHuffmanTable(ReadOnlySpan<byte> counts, ReadOnlySpan<byte> values)
    {
        values.CopyTo(Values);
        int code = 0, k = 0;
        for (int len = 1; len <= 16; len++)
        {
            int n = counts[len - 1];
            if (n == 0)
            {
                MaxCode[len] = -1;
            }
            else
            {
                ValOffset[len] = k - code;
                for (int i = 0; i < n; i++, k++, code++)
                {
                    // A code of length len must fit in len bits.
                    if (code >= (1 << len)) JpegThrowHelper.ThrowInvalid("a Huffman table defines more codes than its code lengths allow.");
                    if (len <= LookupBits)
                    {
                        int shift = LookupBits - len;
                        int start = code << shift;
                        ushort entry = (ushort)((len << 8) | values[k]);
                        for (int j = 0; j < (1 << shift); j++) Lookup[start + j] = entry;
                    }
                }
                MaxCode[len] = code - 1;
            }
            // As in libjpeg, the all-ones code of a length is not allowed either.
            if (code >= (1 << len) && n > 0) JpegThrowHelper.ThrowInvalid("a Huffman table defines more codes than its code lengths allow.");
            code <<= 1;
        }
        MaxCode[17] = int.MaxValue; // sentinel, never reached because length 17 does not exist

        for (int p = 0; p < (1 << LookupBits); p++)
        {
            int e = Lookup[p];
            if (e == 0) continue;
            int len = e >> 8, r = (e & 0xFF) >> 4, s = e & 15;
            if (s == 0 || len + s > LookupBits) continue;
            int bits = (p >> (LookupBits - len - s)) & ((1 << s) - 1);
            int v = bits < (1 << (s - 1)) ? bits - (1 << s) + 1 : bits;
            FastAc[p] = (v << 8) | (r << 4) | (len + s);
        }
    }
}
