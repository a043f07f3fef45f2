using System.Buffers.Binary;
using System.IO.Compression;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace NeuralStyle.Imaging.Png;

/// <summary>
/// PNG encoding facade. Writes the image's own channel layout (1 grey, 2 grey+alpha, 3 RGB, 4 RGBA) at 8 or 16
/// bits per sample, non-interlaced, with an sRGB chunk. Each row gets the filter whose output has the smallest
/// sum of absolute (signed) bytes (the libpng heuristic), then everything goes through .NET's zlib.
/// Samples are clamped to [0, 1] and rounded to the nearest level; NaN is written as 0.
/// </summary>
public static class PngEncoder
{
    public static void Encode(Image image, Stream output, int bitDepth = 8,
        CompressionLevel compression = CompressionLevel.Optimal)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(output);
        if (bitDepth is not (8 or 16))
            throw new ImageFormatException($"PNG bit depth {bitDepth} is not supported; use 8 or 16.");

        output.Write(PngDecoderCore.Signature);

        Span<byte> ihdr = stackalloc byte[13];
        BinaryPrimitives.WriteInt32BigEndian(ihdr, image.Width);
        BinaryPrimitives.WriteInt32BigEndian(ihdr[4..], image.Height);
        ihdr[8] = (byte)bitDepth;
        ihdr[9] = (byte)(image.Channels switch { 1 => PngColorType.Grayscale, 2 => PngColorType.GrayscaleAlpha, 3 => PngColorType.Rgb, _ => PngColorType.Rgba });
        ihdr[10] = ihdr[11] = ihdr[12] = 0;
        WriteChunk(output, "IHDR"u8, ihdr);
        WriteChunk(output, "sRGB"u8, [0]); // perceptual rendering intent: the samples are sRGB

        using (var idat = new IdatStream(output))
        {
            using var zlib = new ZLibStream(idat, compression, leaveOpen: true);
            WriteRows(image, bitDepth, zlib);
        }
        WriteChunk(output, "IEND"u8, []);
    }

    private static void WriteRows(Image image, int bitDepth, Stream zlib)
    {
        int bytesPerSample = bitDepth / 8;
        int bpp = image.Channels * bytesPerSample;
        int rowBytes = image.Width * bpp;
        byte[] previous = new byte[rowBytes];
        byte[] current = new byte[rowBytes];
        byte[] best = new byte[rowBytes + 1];
        byte[] trial = new byte[rowBytes + 1];
        int samplesPerRow = image.Width * image.Channels;
        for (int y = 0; y < image.Height; y++)
        {
            ReadOnlySpan<float> src = image.Data.AsSpan(y * samplesPerRow, samplesPerRow);
            if (bitDepth == 8)
            {
                for (int i = 0; i < src.Length; i++) current[i] = (byte)Quantize(src[i], 255);
            }
            else
            {
                for (int i = 0; i < src.Length; i++) BinaryPrimitives.WriteUInt16BigEndian(current.AsSpan(2 * i), (ushort)Quantize(src[i], 65535));
            }

            long bestScore = long.MaxValue;
            for (byte f = 0; f <= 4; f++)
            {
                long score = Filter(f, current, previous, bpp, trial.AsSpan(1));
                if (score < bestScore)
                {
                    bestScore = score;
                    trial[0] = f;
                    (best, trial) = (trial, best);
                }
            }
            zlib.Write(best);
            (previous, current) = (current, previous);
        }
    }

    /// <summary>Rounds a [0,1] sample to the nearest level (ties to even), clamping out-of-range values; NaN becomes 0.</summary>
    internal static int Quantize(float v, int max)
    {
        float x = v * max;
        x = x > 0f ? (x < max ? x : max) : 0f; // NaN compares false: 0
        return (int)MathF.Round(x); // ties to even (one instruction)
    }

    /// <summary>Applies filter <paramref name="f"/>; returns the sum of |signed byte| of the filtered row.</summary>
    internal static long Filter(byte f, ReadOnlySpan<byte> cur, ReadOnlySpan<byte> prev, int bpp, Span<byte> dst)
    {
        int n = cur.Length;
        if (prev.Length < n || dst.Length < n) throw new ArgumentException("Row buffers are too short.");
        int head = Math.Min(bpp, n);
        // The first bpp bytes have no left neighbour (a = c = 0).
        for (int i = 0; i < head; i++)
            dst[i] = (byte)(cur[i] - f switch { 0 or 1 => 0, 3 => prev[i] >> 1, _ => prev[i] });
        int v = head; // first index not yet written
        ref byte c0 = ref MemoryMarshal.GetReference(cur);
        ref byte p0 = ref MemoryMarshal.GetReference(prev);
        ref byte d0 = ref MemoryMarshal.GetReference(dst);
        if (Vector128.IsHardwareAccelerated && f is 0 or 1 or 2 or 3)
        {
            // d = cur − predictor, 16 bytes at a time; the predictors of these filters only read earlier rows or
            // earlier bytes of the unfiltered current row, so the lanes are independent.
            for (; v + 16 <= n; v += 16)
            {
                Vector128<byte> x = Vector128.LoadUnsafe(ref c0, (nuint)v);
                Vector128<byte> pred = f switch
                {
                    0 => Vector128<byte>.Zero,
                    1 => Vector128.LoadUnsafe(ref c0, (nuint)(v - bpp)),
                    2 => Vector128.LoadUnsafe(ref p0, (nuint)v),
                    _ => FloorAverage(Vector128.LoadUnsafe(ref c0, (nuint)(v - bpp)), Vector128.LoadUnsafe(ref p0, (nuint)v)),
                };
                (x - pred).StoreUnsafe(ref d0, (nuint)v);
            }
        }
        for (int i = v; i < n; i++)
        {
            int a = Unsafe.Add(ref c0, i - bpp), b = Unsafe.Add(ref p0, i);
            int pred = f switch
            {
                0 => 0,
                1 => a,
                2 => b,
                3 => (a + b) >> 1,
                _ => PngDecoderCore.Paeth((byte)a, (byte)b, Unsafe.Add(ref p0, i - bpp)),
            };
            Unsafe.Add(ref d0, i) = (byte)(Unsafe.Add(ref c0, i) - pred);
        }
        return SumOfAbsoluteSignedBytes(dst[..n]);
    }

    /// <summary>⌊(a + b) / 2⌋ per byte without overflow.</summary>
    private static Vector128<byte> FloorAverage(Vector128<byte> a, Vector128<byte> b) =>
        (a & b) + Vector128.ShiftRightLogical(a ^ b, 1);

    /// <summary>Σ |(sbyte)d|, the libpng filter-selection score.</summary>
    internal static long SumOfAbsoluteSignedBytes(ReadOnlySpan<byte> data)
    {
        long sum = 0;
        int i = 0;
        if (Sse2.IsSupported)
        {
            ref byte d0 = ref MemoryMarshal.GetReference(data);
            Vector128<ulong> acc = Vector128<ulong>.Zero;
            for (; i + 16 <= data.Length; i += 16)
            {
                // |x| of a signed byte as an unsigned byte (|−128| = 128), then psadbw against zero sums 8-byte groups.
                Vector128<byte> abs = Vector128.Abs(Vector128.LoadUnsafe(ref d0, (nuint)i).AsSByte()).AsByte();
                acc += Sse2.SumAbsoluteDifferences(abs, Vector128<byte>.Zero).AsUInt64();
            }
            sum = (long)(acc.GetElement(0) + acc.GetElement(1));
        }
        for (; i < data.Length; i++)
        {
            byte d = data[i];
            sum += d < 128 ? d : 256 - d;
        }
        return sum;
    }

    internal static void WriteChunk(Stream output, ReadOnlySpan<byte> type, ReadOnlySpan<byte> body)
    {
        Span<byte> word = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(word, body.Length);
        output.Write(word);
        output.Write(type);
        output.Write(body);
        BinaryPrimitives.WriteUInt32BigEndian(word, Crc32.Append(Crc32.Compute(type), body));
        output.Write(word);
    }

    /// <summary>A write-only stream that cuts what zlib produces into IDAT chunks of at most 64 KiB.</summary>
    private sealed class IdatStream(Stream output) : Stream
    {
        private readonly byte[] _buffer = new byte[65536];
        private int _count;

        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

        public override void Write(ReadOnlySpan<byte> data)
        {
            while (data.Length > 0)
            {
                int n = Math.Min(data.Length, _buffer.Length - _count);
                data[..n].CopyTo(_buffer.AsSpan(_count));
                _count += n;
                data = data[n..];
                if (_count == _buffer.Length) Flush();
            }
        }

        public override void Flush()
        {
            if (_count == 0) return;
            WriteChunk(output, "IDAT"u8, _buffer.AsSpan(0, _count));
            _count = 0;
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing) Flush();
            base.Dispose(disposing);
        }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
    }
}
