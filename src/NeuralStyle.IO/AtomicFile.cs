namespace NeuralStyle.IO;

/// <summary>
/// The repository's one way of writing a file: under a temporary name in the same folder, flushed to disk, then
/// renamed over the target, so a crash or an exception never leaves a half-written file (and an old file survives).
/// </summary>
public static class AtomicFile
{
    /// <summary>Writes <paramref name="path"/> through <paramref name="write"/> on a temporary stream, then renames it into place.</summary>
    /// <param name="createDirectory">Create a missing folder (caches, logs); false refuses it, so a mistyped folder of a
    /// user's output is reported rather than silently created.</param>
    public static void Write(string path, Action<Stream> write, bool createDirectory = false)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(write);
        string full = Path.GetFullPath(path);
        string directory = Folder(path, full, createDirectory);
        string temp = TempPathFor(directory, full);
        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16))
            {
                write(stream);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temp, full, overwrite: true);
        }
        catch
        {
            TryDelete(temp);
            throw;
        }
    }

    /// <summary>Writes UTF-8 text (no byte-order mark).</summary>
    public static void WriteAllText(string path, string text, bool createDirectory = false)
        => Write(path, s =>
        {
            using var w = new StreamWriter(s, new System.Text.UTF8Encoding(false), leaveOpen: true);
            w.Write(text);
        }, createDirectory);

    /// <summary>
    /// Checks, before any long work starts, that <paramref name="path"/> could be written: its folder exists (or is
    /// created when <paramref name="createDirectory"/>) and accepts a new file, and the path is not a folder. Throws
    /// <see cref="IOException"/> or <see cref="UnauthorizedAccessException"/> with one sentence naming the path.
    /// </summary>
    public static void EnsureWritable(string path, bool createDirectory = false)
    {
        ArgumentNullException.ThrowIfNull(path);
        string full = Path.GetFullPath(path);
        if (Directory.Exists(full)) throw new IOException($"Cannot write '{path}': it is a folder.");
        string directory = Folder(path, full, createDirectory);
        string probe = TempPathFor(directory, full);
        try
        {
            using (new FileStream(probe, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1, FileOptions.DeleteOnClose)) { }
        }
        catch (UnauthorizedAccessException)
        {
            throw new UnauthorizedAccessException($"Cannot write '{path}': the folder '{directory}' is not writable.");
        }
        catch (IOException e)
        {
            throw new IOException($"Cannot write '{path}': {e.Message}", e);
        }
        finally
        {
            TryDelete(probe);
        }
    }

    private static string Folder(string path, string full, bool create)
    {
        string directory = Path.GetDirectoryName(full)!;
        if (Directory.Exists(directory)) return directory;
        if (!create) throw new DirectoryNotFoundException($"Cannot write '{path}': the folder '{directory}' does not exist.");
        Directory.CreateDirectory(directory);
        return directory;
    }

    // Hidden, unique per call: concurrent writers of one target never share a temporary file.
    private static string TempPathFor(string directory, string full)
        => Path.Combine(directory, $".{Path.GetFileName(full)}.{Guid.NewGuid():N}.tmp");

    private static void TryDelete(string path)
    {
        try { File.Delete(path); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }
}
