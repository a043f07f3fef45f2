using NeuralStyle.Cli;
using NeuralStyle.Core;
using NeuralStyle.Gatys;
using NeuralStyle.Models;
using NeuralStyle.TestSupport;
using NeuralStyle.Texture;
using NeuralStyle.Weights;

namespace NeuralStyle.Tests.Core;

/// <summary>The library names options by property; only the CLI turns them into flags; bugs are not the user's typo.</summary>
public sealed class OptionErrorTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("ns-opt-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static Backbone Narrow() => new BackboneLoader(new WeightCache(), _ => throw new InvalidOperationException("no download in tests"))
        .Load("vgg19", Fixtures.Gatys("vgg19_narrow.safetensors"), InputFlavor.Caffe, weightsExplicit: true);

    private static (int Code, string Out, string Err) Run(params string[] args) => NeuralStyle.Tests.Cli.CliRunner.Run(args);

    [Fact]
    public void Stylizer_UnknownLayer_ThrowsOptionExceptionNamingTheProperty()
    {
        var e = Assert.Throws<OptionException>(() => new Stylizer(Presets.Get("neural-style") with { ContentLayers = ["relu9_9"] }, Narrow()));
        Assert.Equal(nameof(StylizeOptions.ContentLayers), e.Option);
        Assert.Contains("relu9_9", e.Message);
    }

    [Fact]
    public void StylizeOptions_LayerWeightCountMismatch_NamesPropertyAndRendersAsFlag()
    {
        var o = Presets.Get("neural-style") with { StyleLayerWeights = [1, 2] };
        var e = Assert.Throws<OptionException>(() => o.EffectiveStyleLayerWeights());
        Assert.Equal(nameof(StylizeOptions.StyleLayerWeights), e.Option);
        Assert.StartsWith("StyleLayerWeights has 2 weights", e.Message);
        Assert.StartsWith("--style-layer-weights has 2 weights", e.Render(CommandSupport.FlagFor));
    }

    [Fact]
    public void TvSmoothing_OnAnotherTvScheme_OrNegative_IsRefusedInOneSentenceNamingTheFlag()
    {
        var keras = Assert.Throws<OptionException>(() => new Stylizer(Presets.Get("keras") with { TvSmoothing = 1 }, Narrow()));
        Assert.Equal(nameof(StylizeOptions.TvSmoothing), keras.Option);
        Assert.StartsWith("--tv-smoothing rounds the L1 total variation only", keras.Render(CommandSupport.FlagFor));
        var negative = Assert.Throws<OptionException>(() => new Stylizer(Presets.Get("neural-style") with { TvSmoothing = -1 }, Narrow()));
        Assert.Equal(nameof(StylizeOptions.TvSmoothing), negative.Option);
        var levels = Assert.Throws<OptionException>(() => new Stylizer(Presets.Get("neural-style") with { PreconditionLevels = -2 }, Narrow()));
        Assert.StartsWith("--precondition-levels must be between 0 and 12", levels.Render(CommandSupport.FlagFor));
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(13)]
    public void TextureSynthesizer_PreconditionLevelsOutOfRange_ThrowsOptionException(int levels)
    {
        var e = Assert.Throws<OptionException>(() => new TextureSynthesizer(new TextureOptions { PreconditionLevels = levels }, Narrow()));
        Assert.Equal(nameof(TextureOptions.PreconditionLevels), e.Option);
        Assert.Equal("--precondition-levels must be between 0 and 12.", e.Render(CommandSupport.FlagFor));
    }

    [Fact]
    public void TextureSynthesizer_ZeroOctaves_ThrowsOptionException()
    {
        var e = Assert.Throws<OptionException>(() => new TextureSynthesizer(new TextureOptions { Octaves = 0 }, Narrow()));
        Assert.Equal(nameof(TextureOptions.Octaves), e.Option);
        Assert.DoesNotContain("--", e.Message);
    }

    [Theory]
    [InlineData(nameof(StylizeOptions.StyleWeight), "--style-weight")]
    [InlineData(nameof(StylizeOptions.Flavor), "--input-flavor")]
    [InlineData(nameof(StylizeOptions.StrongWolfe), "--line-search")]
    [InlineData(nameof(StylizeOptions.StyleOctaves), "--octaves")]
    [InlineData(nameof(StylizeOptions.InitPath), "--init")]
    [InlineData(nameof(TextureOptions.IfWeight), "--if-weight")]
    [InlineData(nameof(StylizeOptions.LearningRate), "--learning-rate")]
    public void FlagFor_MapsPropertiesToTheirFlags(string property, string flag) => Assert.Equal(flag, CommandSupport.FlagFor(property));

    [Fact]
    public void Render_ReplacesEveryReference() => Assert.Equal("Lower --learning-rate (or --style-weight).",
        OptionException.Render("Lower {LearningRate} (or {StyleWeight}).", CommandSupport.FlagFor));

    [Fact]
    public void EveryBoundProperty_MapsToOneFlag()
    {
        var byProperty = CommandSupport.AllOptions.SelectMany(s => s.Binds.Select(p => (Property: p, s.Name))).GroupBy(x => x.Property);
        foreach (var g in byProperty) Assert.True(g.Select(x => x.Name).Distinct().Count() == 1, $"{g.Key} is bound by {string.Join(", ", g.Select(x => x.Name))}");
    }

    [Fact]
    public void EveryFlag_IsDeclaredInExactlyOnePlace()
    {
        foreach (var spec in StylizeCommand.Options.Concat(TextureCommand.Options).GroupBy(s => s.Name))
            Assert.True(spec.Distinct(ReferenceEqualityComparer.Instance).Count() == 1, $"{spec.Key} is declared more than once");
        foreach (OptionSpec[] options in new[] { StylizeCommand.Options, TextureCommand.Options })
            Assert.Equal(options.Length, options.Select(s => s.Name).Distinct().Count());
        // The shared groups are the same objects in both commands.
        foreach (OptionSpec shared in CommonOptions.All)
        {
            Assert.Contains(shared, StylizeCommand.Options);
            Assert.Contains(shared, TextureCommand.Options);
        }
    }

    [Fact]
    public void Parse_TwoDeclarationsOfOneFlag_IsABugNotAUsageError()
        => Assert.Throws<InvalidOperationException>(() => ParsedArgs.Parse("x", [], [CommonOptions.Seed, new OptionSpec("--seed", Arity.One, "again")]));

    [Fact]
    public void Cli_InternalArgumentException_IsReportedAsInternalErrorNotAsTheUsersMistake()
    {
        var err = new StringWriter();
        int code = CliApp.Execute(new CliContext(new StringWriter(), err, interactive: false),
            () => throw new ArgumentException("The tensor has 3 values but its shape needs 4.", "shape"));
        Assert.Equal(1, code);
        string text = err.ToString();
        Assert.Single(text.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("neuralstyle: internal error", text);
        Assert.Contains("please report it", text);
        Assert.DoesNotContain("   at ", text);
    }

    [Fact]
    public void Cli_OptionException_IsOneSentenceWithTheFlagExit1()
    {
        var err = new StringWriter();
        int code = CliApp.Execute(new CliContext(new StringWriter(), err, interactive: false),
            () => throw new OptionException(nameof(StylizeOptions.ScaleFactor), "{ScaleFactor} must be greater than 1."));
        Assert.Equal(1, code);
        Assert.Equal("neuralstyle: --scale-factor must be greater than 1.", err.ToString().Trim());
    }

    [Fact]
    public void Cli_UnknownLayer_IsTheUsersMistakeNamedByFlagNotAnInternalError()
    {
        var r = Run("stylize", "--content", Fixtures.Gatys("content.png"), "--style", Fixtures.Gatys("style_a.png"),
            "--weights", Fixtures.Gatys("vgg19_narrow.safetensors"), "--input-flavor", "caffe", "--size", "45",
            "--style-layers", "relu1_1,relu9_9", "-o", Path.Combine(_dir, "o.png"));
        Assert.Equal(1, r.Code);
        Assert.DoesNotContain("internal error", r.Err);
        Assert.Contains("relu9_9", r.Err);
    }

    [Fact]
    public void Cli_TextureTooSmallForOctaves_NamesTheFlags()
    {
        var r = Run("texture", Fixtures.TextureFile("source_a.png"), "--weights", Fixtures.Gatys("vgg19_narrow.safetensors"),
            "--input-flavor", "caffe", "--width", "16", "--octaves", "8", "--iterations", "1", "-o", Path.Combine(_dir, "t.png"));
        Assert.Equal(1, r.Code);
        Assert.Contains("--octaves", r.Err);
        Assert.DoesNotContain("{", r.Err);
        Assert.DoesNotContain("internal error", r.Err);
    }
}
