namespace NeuralStyle.Weights;

/// <summary>The one way the weight readers open a file: any IO failure becomes one <see cref="WeightFormatException"/> sentence.</summary>
internal static class WeightFileStream
{
    /// <summary>
    /// Opens <paramref name="path"/> for reading; a missing file or folder is "The <paramref name="what"/> 'PATH' does
    /// not exist.", any other IO or permission error "… cannot be read (reason)."
    /// </summary>
    public static FileStream OpenRead(string path, string what = "weights file", int bufferSize = 1 << 16)
    {
        ArgumentNullException.ThrowIfNull(path);
        try
        {
            return new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new WeightFormatException($"The {what} '{path}' does not exist.", e);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new WeightFormatException($"The {what} '{path}' cannot be read ({e.Message}).", e);
        }
    }
}
