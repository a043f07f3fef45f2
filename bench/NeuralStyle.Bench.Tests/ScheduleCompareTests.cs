using NeuralStyle.Core;
using NeuralStyle.Gatys;
using NeuralStyle.Imaging;

namespace NeuralStyle.Bench.Tests;

public class ScheduleCompareTests
{
    private static StylizeOptions Apply(string spec) => ScheduleCompare.Parse(spec).Apply(Presets.Get("neural-style"));

    [Fact]
    public void Parse_PresetFast_TakesItsStartAndBudget_NotItsLosses()
    {
        StylizeOptions o = ScheduleCompare.Parse("f:preset=fast").Apply(Presets.Get("neural-style") with { StyleWeight = 7 });
        Assert.Equal(InitKind.Image, o.Init);
        StylizeOptions fast = Presets.Get("fast");
        Assert.Equal(fast.Iterations, o.Iterations);
        // how the preset's L-BFGS walks comes along too: the schedule comparison times the preset as users run it
        Assert.Equal((fast.TvSmoothing, fast.PreconditionLevels, fast.LbfgsHistory), (o.TvSmoothing, o.PreconditionLevels, o.LbfgsHistory));
        Assert.NotEqual(Presets.Get("neural-style").LbfgsHistory, o.LbfgsHistory);
        Assert.Equal(7, o.StyleWeight);
    }

    [Fact]
    public void Parse_KeysApplyInOrder_InitAndHistory()
    {
        StylizeOptions o = Apply("x:preset=coarse-to-fine,init=image,history=20");
        Assert.Equal(InitKind.Image, o.Init);
        Assert.Equal(20, o.LbfgsHistory);
        Assert.Equal([200, 60, 40], o.ScaleIterations);
        Assert.Equal(InitKind.Random, Apply("y:preset=fast,init=random").Init);
    }

    [Fact]
    public void Parse_UnknownKey_Refused() => Assert.Throws<ArgumentException>(() => Apply("z:colour=red"));

    [Fact]
    public void Reference_RoundTrips_Curve_Time_AndImage()
    {
        string dir = Directory.CreateTempSubdirectory("ns-schedref-").FullName;
        try
        {
            var rows = Enumerable.Range(0, 5).Select(k => new ProgressRecord(k, 4, 0.1 * k + 1e-7, 1000.0 / (k + 1) + 1e-9, new Dictionary<string, double>())).ToList();
            var image = new Image(4, 3, 3);
            for (int i = 0; i < image.Data.Length; i++) image.Data[i] = (i % 7) / 6f;
            string stem = Path.Combine(dir, "single-4-4");
            ScheduleCompare.WriteReference(stem, new ScheduleCompare.RunResult(rows, 12.345, image));

            ScheduleCompare.RunResult back = ScheduleCompare.ReadReference(stem);

            Assert.Equal(12.345, back.Seconds);
            Assert.Equal(rows.Select(r => (r.Step, r.TotalSteps, r.Seconds, r.Loss)), back.Rows.Select(r => (r.Step, r.TotalSteps, r.Seconds, r.Loss)));
            Assert.Equal((4, 3), (back.Image.Width, back.Image.Height));
            Assert.True(ScheduleCompare.Difference(image, back.Image).Rmse < 0.003); // 8-bit PNG
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
