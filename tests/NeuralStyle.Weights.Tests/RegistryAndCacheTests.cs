namespace NeuralStyle.Weights.Tests;

public class ModelRegistryTests
{
    [Fact]
    public void All_EveryEntry_HasConsistentFileNameHashAndArchitecture()
    {
        var architectures = new HashSet<string> { "vgg19", "vgg16", "resnet50", "transformer-zip", "transformer", "transformer-onnx" };
        foreach (var e in ModelRegistry.All)
        {
            Assert.Contains(e.Architecture, architectures);
            Assert.Contains(e.Flavor, new[] { "caffe", "torchvision", ModelRegistry.Rgb255 });
            Assert.StartsWith("https://", e.Url);
            Assert.Equal(Path.GetFileName(e.FileName), e.FileName);
            if (e.Sha256Prefix.Length > 0)
            {
                // torchvision's convention: name-<first 8 hex of SHA-256>.pth, and the URL ends with the file name.
                Assert.Matches("^[0-9a-f]{8}$", e.Sha256Prefix);
                Assert.EndsWith("-" + e.Sha256Prefix + ".pth", e.FileName);
                Assert.EndsWith("/" + e.FileName, e.Url);
            }
        }
        Assert.Equal(ModelRegistry.All.Count, ModelRegistry.All.Select(e => e.Name).Distinct().Count());
    }

    [Theory]
    [InlineData("vgg19", "caffe", "vgg19", "d01eb7cb")]
    [InlineData("vgg16-caffe", "caffe", "vgg16", "00b39a1b")]
    [InlineData("vgg19-torchvision", "torchvision", "vgg19", "dcbb9e9d")]
    [InlineData("vgg16-torchvision", "torchvision", "vgg16", "397923af")]
    [InlineData("resnet50", "torchvision", "resnet50", "0676ba61")]
    [InlineData("VGG19", "caffe", "vgg19", "d01eb7cb")]
    public void Find_KnownName_ReturnsTheSpecEntry(string name, string flavor, string arch, string hash)
    {
        var e = ModelRegistry.Find(name);
        Assert.NotNull(e);
        Assert.Equal(flavor, e.Flavor);
        Assert.Equal(arch, e.Architecture);
        Assert.Equal(hash, e.Sha256Prefix);
    }

    [Fact]
    public void Find_DefaultAndFastStyleEntries_AreWhereTheSpecSays()
    {
        Assert.Equal("https://web.eecs.umich.edu/~justincj/models/vgg19-d01eb7cb.pth", ModelRegistry.Find(ModelRegistry.DefaultName)!.Url);
        var fast = ModelRegistry.All.Single(e => e.Architecture == "transformer-zip");
        Assert.EndsWith("saved_models.zip?dl=1", fast.Url);
        Assert.Null(ModelRegistry.Find("vgg11"));
    }

    [Theory]
    [InlineData("dcbb9e9d", "vgg19-torchvision")]
    [InlineData("DCBB9E9D", "vgg19-torchvision")]
    [InlineData("0676ba61e0ff34b0e62e1c2a3e8bb7d8c8c1d9e0f1a2b3c4d5e6f708192a3b4c", "resnet50")]
    public void FindByHashPrefix_KnownHash_ReturnsEntry(string hash, string name)
    {
        Assert.Equal(name, ModelRegistry.FindByHashPrefix(hash)?.Name);
    }

    [Theory]
    [InlineData("deadbeef")]
    [InlineData("dcbb")]     // too short to be trusted
    [InlineData("")]
    public void FindByHashPrefix_UnknownOrShortHash_ReturnsNull(string hash)
    {
        Assert.Null(ModelRegistry.FindByHashPrefix(hash));
    }
}

public class WeightCacheTests
{
    private static Func<string, string?> Env(params (string Key, string Value)[] vars) =>
        k => vars.FirstOrDefault(v => v.Key == k).Value;

    [Fact]
    public void ResolveRoot_NeuralStyleHomeSet_WinsOverEverything()
    {
        string root = WeightCache.ResolveRoot(Env(("NEURALSTYLE_HOME", "/data/ns"), ("XDG_CACHE_HOME", "/xdg")), "/home/u", windows: false);
        Assert.Equal("/data/ns", root);
    }

    [Fact]
    public void ResolveRoot_OnlyXdgSet_UsesXdgNeuralstyle()
    {
        Assert.Equal(Path.Combine("/xdg", "neuralstyle"), WeightCache.ResolveRoot(Env(("XDG_CACHE_HOME", "/xdg")), "/home/u", windows: false));
    }

    [Fact]
    public void ResolveRoot_NothingOrRelativeXdg_UsesHomeDotCache()
    {
        string expected = Path.Combine("/home/u", ".cache", "neuralstyle");
        Assert.Equal(expected, WeightCache.ResolveRoot(Env(), "/home/u", windows: false));
        Assert.Equal(expected, WeightCache.ResolveRoot(Env(("XDG_CACHE_HOME", "relative/dir"), ("NEURALSTYLE_HOME", "")), "/home/u", windows: false));
    }

    [Fact]
    public void ResolveRoot_WindowsWithLocalAppData_UsesIt()
    {
        Assert.Equal(Path.Combine("C:/Users/u/AppData/Local", "neuralstyle"),
            WeightCache.ResolveRoot(Env(("LOCALAPPDATA", "C:/Users/u/AppData/Local")), "C:/Users/u", windows: true));
    }

    [Fact]
    public void Constructor_ExplicitRoot_PathForIsTheFileNameInsideIt()
    {
        using var dir = new TempDir();
        var cache = new WeightCache(dir.Path);
        var entry = ModelRegistry.Find("vgg19")!;
        Assert.Equal(dir.Path, cache.Root);
        Assert.Equal(Path.Combine(dir.Path, "vgg19-d01eb7cb.pth"), cache.PathFor(entry));
    }

    [Fact]
    public void Constructor_NoRoot_FollowsTheProcessEnvironment()
    {
        string? own = Environment.GetEnvironmentVariable("NEURALSTYLE_HOME");
        string expected = Path.GetFullPath(WeightCache.ResolveRoot(Environment.GetEnvironmentVariable,
            Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), OperatingSystem.IsWindows()));
        Assert.Equal(expected, new WeightCache().Root);
        if (string.IsNullOrEmpty(own)) Assert.EndsWith("neuralstyle", new WeightCache().Root);
    }

    [Fact]
    public void IsCached_OnlyACompleteFileCounts()
    {
        using var dir = new TempDir();
        var cache = new WeightCache(dir.Path);
        var entry = ModelRegistry.Find("resnet50")!;
        Assert.False(cache.IsCached(entry));
        File.WriteAllBytes(cache.PathFor(entry) + ".partial", [1, 2, 3]);
        Assert.False(cache.IsCached(entry));
        File.WriteAllBytes(cache.PathFor(entry), [1, 2, 3]);
        Assert.True(cache.IsCached(entry));
    }

    [Theory]
    [InlineData("../evil.pth")]
    [InlineData("sub/dir.pth")]
    [InlineData("")]
    public void PathFor_FileNameWithFolders_Rejected(string fileName)
    {
        using var dir = new TempDir();
        var entry = new ModelEntry("x", "http://127.0.0.1/x", fileName, "caffe", "vgg19", "", null, "");
        Assert.Throws<ArgumentException>(() => new WeightCache(dir.Path).PathFor(entry));
    }
}

public class IdentifyAndDerivedPathTests
{
    [Fact]
    public void Identify_RegistryFileName_FoundWithoutReadingTheFile()
    {
        Assert.Equal("vgg19-torchvision", ModelRegistry.Identify("/nowhere/vgg19-dcbb9e9d.pth")?.Name);
        Assert.Equal("vgg19", ModelRegistry.Identify("VGG19-D01EB7CB.PTH", hashContent: false)?.Name);
    }

    [Fact]
    public void Identify_UnknownFile_HashedAndNotFound()
    {
        using var dir = new TempDir();
        string path = dir.Write("my-weights.pth", [1, 2, 3]);
        Assert.Null(ModelRegistry.Identify(path));
        Assert.Null(ModelRegistry.Identify(dir.File("missing.pth")));
    }

    [Fact]
    public void DerivedPathFor_Suffix_SitsNextToTheEntryFile()
    {
        using var dir = new TempDir();
        var cache = new WeightCache(dir.Path);
        var e = ModelRegistry.Find("vgg19")!;
        Assert.Equal(Path.Combine(dir.Path, "vgg19-d01eb7cb.features.safetensors"), cache.DerivedPathFor(e, "features.safetensors"));
        Assert.Throws<ArgumentException>(() => cache.DerivedPathFor(e, "../x"));
        Assert.Throws<ArgumentException>(() => cache.DerivedPathFor(e, ""));
    }
}
