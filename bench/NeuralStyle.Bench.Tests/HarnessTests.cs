using NeuralStyle.Models.Vgg;

namespace NeuralStyle.Bench.Tests;

public class StatsTests
{
    [Fact]
    public void Median_OddCount_MiddleValue() => Assert.Equal(3.0, Stats.Median([5.0, 1.0, 3.0]));

    [Fact]
    public void Median_EvenCount_MeanOfMiddlePair() => Assert.Equal(2.5, Stats.Median([4.0, 1.0, 2.0, 3.0]));

    [Fact]
    public void Median_Empty_NaN() => Assert.True(double.IsNaN(Stats.Median([])));

    [Theory]
    [InlineData("conv-fwd/conv3_2", "conv-fwd", true)]
    [InlineData("conv-fwd/conv3_2", "CONV3", true)]
    [InlineData("conv-fwd/conv3_2", "conv-bwd*", false)]
    [InlineData("conv-bwd-input/conv4_1", "conv-bwd*/conv4*", true)]
    [InlineData("vgg19-fwdbwd", "gatys,vgg19-fwdbwd", true)]
    [InlineData("stylize", "gatys,vgg", false)]
    [InlineData("stylize", null, true)]
    public void Matches_Patterns_SubstringOrWildcard(string name, string? pattern, bool expected)
        => Assert.Equal(expected, Stats.Matches(name, pattern));

    [Theory]
    [InlineData(0.0123, "12.3 ms")]
    [InlineData(1.5, "1.500 s")]
    public void Time_Seconds_Formatted(double seconds, string expected) => Assert.Equal(expected, Stats.Time(seconds));
}

public class MemoryTests
{
    [Fact]
    public void ParseKb_StatusLine_Kilobytes() => Assert.Equal(123456, Memory.ParseKb("VmHWM:\t  123456 kB"));

    [Fact]
    public void PeakKb_AfterTouchingMemory_GrowsAtLeastByTheBuffer()
    {
        Memory.ResetPeak();
        long before = Memory.PeakKb();
        var buffer = new byte[64 << 20];
        for (int i = 0; i < buffer.Length; i += 4096)
        {
            buffer[i] = 1;
        }

        long after = Memory.PeakKb();
        GC.KeepAlive(buffer);
        Assert.True(after - before >= 60 << 10, $"peak grew by {after - before} KiB only");
    }
}

public class OptionsTests
{
    [Fact]
    public void Parse_AllOptions_Read()
    {
        Options o = Options.Parse(["--cases", "conv", "--runs", "7", "--no-peer", "--quick", "--stylize-iterations", "3"]);
        Assert.Equal("conv", o.Cases);
        Assert.Equal(7, o.Runs);
        Assert.True(o.NoPeer);
        Assert.True(o.Quick);
        Assert.Equal(3, o.StylizeIterations);
    }

    [Theory]
    [InlineData("--runs", "0")]
    [InlineData("--runs", "x")]
    [InlineData("--bogus", "1")]
    public void Parse_BadInput_Throws(string option, string value)
        => Assert.Throws<ArgumentException>(() => Options.Parse([option, value]));

    [Fact]
    public void Parse_MissingValue_Throws() => Assert.Throws<ArgumentException>(() => Options.Parse(["--cases"]));
}

public class CatalogTests
{
    [Fact]
    public void All_Full_HasEveryCaseOfTheIssue()
    {
        List<BenchCase> cases = Catalog.All(new Options());
        Assert.Equal(27, cases.Count(c => c.Name.StartsWith("conv-", StringComparison.Ordinal)));
        Assert.Equal(["256²", "512²"], cases.Where(c => c.Name == "vgg19-fwd").Select(c => c.Size));
        Assert.Equal(["256²", "512²"], cases.Where(c => c.Name == "vgg19-fwdbwd").Select(c => c.Size));
        Assert.Equal("512×384", Assert.Single(cases, c => c.Name == "gatys-iter").Size);
        Assert.True(Assert.Single(cases, c => c.Name == "stylize").FreshProcess);
        Assert.Equal(cases.Count, cases.Select(c => c.Name + c.Size).Distinct().Count());
    }

    [Fact]
    public void All_Full_HasTheJohnsonCases()
    {
        List<BenchCase> cases = Catalog.All(new Options());
        Assert.Equal(["512²", "1024²"], cases.Where(c => c.Name == "johnson-fwd").Select(c => c.Size));
        BenchCase mem = Assert.Single(cases, c => c.Name == "johnson-fwd-mem");
        Assert.True(mem.FreshProcess);
        Assert.Equal("1024²", mem.Size);
        Assert.Equal("4×256²", Assert.Single(cases, c => c.Name == "johnson-train-step").Size);
        Assert.Equal("johnson_fwd", cases.First(c => c.Name == "johnson-fwd").PeerSpec["kind"]);
        // 2 FLOPs per multiply-add: 153,792 MAC per pixel (spec performance.md) at 512².
        Assert.Equal(2.0 * 153792 * 512 * 512, cases.First(c => c.Name == "johnson-fwd").Flops);
    }

    [Fact]
    public void ForwardMacs_Vgg19At512_MatchesTheSpecAndTheModel()
    {
        // performance.md: 361,152 multiply-adds per input pixel, 94.7 GMAC at 512².
        Assert.Equal(361152.0 * 512 * 512, VggConvLayers.ForwardMacs(512, 512));
        VggNet net = VggNet.Random(VggArchitecture.Vgg19, 1);
        Assert.Equal(net.MacsPerInputPixel(29) * 384 * 512, VggConvLayers.ForwardMacs(384, 512), 1e-6 * VggConvLayers.ForwardMacs(384, 512));
    }

    [Fact]
    public void IterationFlops_At512_About379GflopPlusGrams()
    {
        double f = NeuralStylePreset.IterationFlops(512, 512);
        Assert.InRange(f, 379e9, 379e9 * 1.06);
    }

    [Fact]
    public void ConvCase_PeerSpec_NamesTheSameProblem()
    {
        var c = new ConvCase("conv3_2", 256, 256, 128, ConvDirection.BackwardWeights);
        Assert.Equal("""{"kind":"conv_bwd_weights","ci":256,"co":256,"h":128,"w":128}""", c.PeerJson);
        Assert.Equal(2.0 * 9 * 256 * 256 * 128 * 128, c.Flops);
    }
}

public class CaseTests
{
    [Fact]
    public void VggCase_SmallInput_RunsAndTimes()
    {
        var c = new VggCase(32, backward: true);
        c.Setup();
        RunResult r = c.Run();
        c.Teardown();
        Assert.True(r.Seconds > 0);
    }

    [Fact]
    public void GatysIterationCase_SmallImage_RunsAndTimes()
    {
        var c = new GatysIterationCase(48, 32);
        c.Setup();
        RunResult r = c.Run();
        Assert.True(r.Seconds > 0);
    }

    [Fact]
    public void PeerTryStart_MissingScript_SaysWhy()
    {
        Peer? p = Peer.TryStart("/nonexistent/peer.py", out string? why);
        Assert.Null(p);
        Assert.False(string.IsNullOrEmpty(why));
    }

    [Fact]
    public void Synthetic_ContentPattern_MatchesPeerFormula()
    {
        // peer.py synthetic_rgb("content"): r = 0.5 + 0.5 sin(0.031 x + 0.017 y) at x = 10, y = 7.
        var img = Synthetic.Content(16, 8);
        Assert.Equal(0.5 + 0.5 * Math.Sin(0.31 + 0.119), img[10, 7, 0], 5);
    }
}

public class ProfilerTests
{
}
