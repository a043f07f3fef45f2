using System.Buffers.Binary;
using System.IO.Compression;

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

    /// <summary>Rounds a [0,1] sample to an integer level, clamping out-of-range values; NaN becomes 0.</summary>
    internal static int Quantize(float v, int max)
    {
        if (!(v > 0f)) return 0;
        if (v >= 1f) return max;
        return (int)MathF.Round(v * max, MidpointRounding.AwayFromZero);
    }

    /// <summary>Applies filter <paramref name="f"/>; returns the sum of |signed byte| of the filtered row.</summary>
    internal static long Filter(byte f, ReadOnlySpan<byte> cur, ReadOnlySpan<byte> prev, int bpp, Span<byte> dst)
    {
        int n = cur.Length;
        int head = Math.Min(bpp, n);
        // The first bpp bytes have no left neighbour (a = c = 0).
        for (int i = 0; i < head; i++)
            dst[i] = (byte)(cur[i] - f switch { 0 or 1 => 0, 3 => prev[i] >> 1, _ => prev[i] });
        switch (f)
        {
            case 0:
                cur[head..].CopyTo(dst[head..]);
                break;
            case 1:
                for (int i = bpp; i < n; i++) dst[i] = (byte)(cur[i] - cur[i - bpp]);
                break;
            case 2:
                for (int i = bpp; i < n; i++) dst[i] = (byte)(cur[i] - prev[i]);
                break;
            case 3:
                for (int i = bpp; i < n; i++) dst[i] = (byte)(cur[i] - ((cur[i - bpp] + prev[i]) >> 1));
                break;
            default:
                for (int i = bpp; i < n; i++) dst[i] = (byte)(cur[i] - PngDecoderCore.Paeth(cur[i - bpp], prev[i], prev[i - bpp]));
                break;
        }
        long sum = 0;
        foreach (byte d in dst[..n]) sum += d < 128 ? d : 256 - d; // |d as a signed byte|
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
