using NeuralStyle.Core;
using NeuralStyle.Models;
using NeuralStyle.TestSupport;
using NeuralStyle.Weights;

namespace NeuralStyle.Tests.Core;

/// <summary>A server's jobs share one loaded backbone while they ask for the same one, and never a stale one.</summary>
public sealed class BackboneMemoTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("ns-memo-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static BackboneLoader Loader(BackboneMemo memo, Func<ModelEntry, string>? download = null) =>
        new(new WeightCache(), download ?? (_ => throw new InvalidOperationException("no download in tests"))) { Memo = memo };

    [Fact]
    public void Load_SameModelTwice_SameNetwork_AnotherFlavour_LoadedAfresh()
    {
        var memo = new BackboneMemo();
        Backbone first = Loader(memo).Load("random", null, null, weightsExplicit: false);
        Backbone again = Loader(memo).Load("random", null, null, weightsExplicit: false);
        Backbone caffe = Loader(memo).Load("random", null, InputFlavor.Caffe, weightsExplicit: false);

        Assert.Same(first.Net, again.Net);
        Assert.NotSame(first.Net, caffe.Net);
        Assert.Equal(InputFlavor.Caffe, caffe.Flavor);
    }

    [Fact]
    public void Load_LoaderSettingDiffers_LoadedAfresh()
    {
        var memo = new BackboneMemo();
        Backbone plain = Loader(memo).Load("random", null, null, weightsExplicit: false);
        BackboneLoader transposing = Loader(memo);
        transposing.MatConvNetTranspose = true;
        Assert.NotSame(plain.Net, transposing.Load("random", null, null, weightsExplicit: false).Net);
    }

    [Fact]
    public void Load_WithoutMemo_EveryLoadReads()
    {
        var loader = new BackboneLoader(new WeightCache(), _ => throw new InvalidOperationException());
        Assert.NotSame(loader.Load("random", null, null, false).Net, loader.Load("random", null, null, false).Net);
    }

    [Fact]
    public void Load_WeightsFileReplaced_LoadedAfresh()
    {
        string file = Path.Combine(_dir, "vgg19.h5");
        File.Copy(Fixtures.Engine("keras", "vgg19_notop_keras2.h5"), file);
        var memo = new BackboneMemo();
        Backbone first = Loader(memo).Load("vgg19", file, null, weightsExplicit: true);
        Assert.Same(first.Net, Loader(memo).Load("vgg19", file, null, weightsExplicit: true).Net);

        File.SetLastWriteTimeUtc(file, File.GetLastWriteTimeUtc(file).AddMinutes(1));

        Assert.NotSame(first.Net, Loader(memo).Load("vgg19", file, null, weightsExplicit: true).Net);
    }

    [Fact]
    public void Load_FallbackToRandom_NotKept_SoTheNextJobTriesTheDownloadAgain()
    {
        var memo = new BackboneMemo();
        int attempts = 0;
        string Fail(ModelEntry _)
        {
            attempts++;
            throw new IOException("offline");
        }
        // An empty cache folder, so the default weights are never found on disk.
        var cache = new WeightCache(Path.Combine(_dir, "cache"));
        BackboneLoader Offline() => new(cache, Fail) { Memo = memo };

        BackboneLoader loader = Offline();
        loader.Load("vgg19", null, null, weightsExplicit: false);
        Assert.True(loader.FellBack);
        Offline().Load("vgg19", null, null, weightsExplicit: false);

        Assert.Equal(2, attempts);
    }
}
