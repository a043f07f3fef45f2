using NeuralStyle.Imaging;

namespace NeuralStyle.Core;

/// <summary>
/// The training images: every .png/.jpg/.jpeg under a folder (recursively, in ordinal path order so a seed means the
/// same order everywhere). Each is decoded as pytorch/examples does (<c>Resize(size)</c> of the short side, then
/// <c>CenterCrop(size)</c>, RGB × 255); an unreadable or tiny image is skipped with a warning and counted, never fatal.
/// </summary>
public sealed class ImageFolderDataset
{
    private readonly HashSet<int> _bad = [];

    private ImageFolderDataset(string folder, IReadOnlyList<string> files)
    {
        Folder = folder;
        Files = files;
    }

    /// <summary>Images the runs need no fewer than on a side (smaller ones are skipped).</summary>
    public const int MinImageSide = 32;

    public string Folder { get; }
    public IReadOnlyList<string> Files { get; }
    public int Count => Files.Count;

    /// <summary>Told once per skipped image, with the reason.</summary>
    public Action<string>? Warn { get; set; }

    /// <summary>How many images were skipped so far.</summary>
    public int Skipped
    {
        get { lock (_bad) return _bad.Count; }
    }

    /// <summary>Lists the images under <paramref name="folder"/>; a missing folder or one without images is refused.</summary>
    public static ImageFolderDataset Scan(string folder)
    {
        ArgumentException.ThrowIfNullOrEmpty(folder);
        if (!Directory.Exists(folder))
            throw new OptionException("Dataset", $"The {{Dataset}} folder '{folder}' does not exist.");
        var files = Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories)
            .Where(f => Path.GetExtension(f).ToLowerInvariant() is ".png" or ".jpg" or ".jpeg")
            .Order(StringComparer.Ordinal).ToList();
        if (files.Count == 0)
            throw new OptionException("Dataset", $"The {{Dataset}} folder '{folder}' has no .png or .jpg images (searched recursively).");
        return new ImageFolderDataset(folder, files);
    }

    /// <summary>
    /// Image <paramref name="index"/> as a size×size RGB crop on a 0–255 scale (interleaved), or null (warned once,
    /// counted) when it cannot be decoded or is smaller than <see cref="MinImageSide"/> on a side.
    /// </summary>
    public float[]? TryLoad(int index, int size)
    {
        string file = Files[index];
        try
        {
            Image img = ImageIO.ToRgb(ImageIO.Load(file));
            if (Math.Min(img.Width, img.Height) < MinImageSide)
                return Skip(index, $"'{file}' is only {img.Width}×{img.Height} (at least {MinImageSide} px a side needed); skipped.");
            return CenterCrop255(img, size);
        }
        catch (Exception e) when (e is ImageFormatException or IOException or UnauthorizedAccessException or InvalidDataException)
        {
            return Skip(index, $"'{file}' cannot be read ({e.Message.TrimEnd('.')}); skipped.");
        }
    }

    private float[]? Skip(int index, string message)
    {
        bool first;
        lock (_bad) first = _bad.Add(index);
        if (first) Warn?.Invoke(message);
        return null;
    }

    /// <summary>torchvision's Resize(size) (short side, bilinear with antialiasing) then CenterCrop(size), × 255.</summary>
    public static float[] CenterCrop255(Image rgb, int size)
    {
        Image r = Math.Min(rgb.Width, rgb.Height) == size ? rgb : Resampler.ResizeToShortEdge(rgb, size, ResampleFilter.Bilinear);
        // torchvision's CenterCrop: top = round((H − size) / 2).
        int top = (int)Math.Round((r.Height - size) / 2.0, MidpointRounding.ToEven), left = (int)Math.Round((r.Width - size) / 2.0, MidpointRounding.ToEven);
        var data = new float[size * size * 3];
        for (int y = 0; y < size; y++)
            for (int x = 0; x < size; x++)
                for (int c = 0; c < 3; c++)
                    data[(y * size + x) * 3 + c] = r.Data[((top + y) * r.Width + left + x) * 3 + c] * 255f;
        return data;
    }
}
