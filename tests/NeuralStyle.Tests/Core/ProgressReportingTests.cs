using System.Text.Json;
using NeuralStyle.Cli;
using NeuralStyle.Core;

namespace NeuralStyle.Tests.Core;

/// <summary>The one progress record and its three readers: JSON log, progress line, groups.</summary>
public sealed class ProgressReportingTests
{
    private static ProgressRecord Row(int step, int total, double loss, Dictionary<string, double> terms) => new(step, total, 12.5, loss, terms);

    [Fact]
    public void Groups_SumByPrefix_OtherIsEverythingButContentAndStyle()
    {
        var r = Row(3, 10, 7, new() { ["content:relu4_2"] = 1, ["style:relu1_1"] = 2, ["style:relu2_1"] = 3, ["tv"] = 0.5, ["interframe"] = 0.25 });
        Assert.Equal(1, r.Content);
        Assert.Equal(5, r.Style);
        Assert.Equal(0.75, r.Other);
        Assert.Equal(["content", "style", "tv", "interframe"], r.Groups().Select(g => g.Name));
    }

    [Fact]
    public void JsonLog_HostileNames_AreEscapedAndRoundTrip()
    {
        const string hostile = "style:re\"lu\\1_1\n{\"x\": 1}";
        const string stage = "scale \"1\"/2 256×192";
        var r = Row(4, 10, 3, new() { [hostile] = 2.5, ["content:relu4_2"] = 0.5, ["nan"] = double.NaN }) with { Stage = stage };
        string line = JsonLog.Format(r);
        Assert.DoesNotContain('\n', line);
        JsonElement j = JsonDocument.Parse(line).RootElement;
        Assert.Equal(4, j.GetProperty("iteration").GetInt32());
        Assert.Equal(stage, j.GetProperty("stage").GetString());
        Assert.Equal(2.5, j.GetProperty("terms").GetProperty(hostile).GetDouble());
        Assert.Equal(JsonValueKind.Null, j.GetProperty("terms").GetProperty("nan").ValueKind);
        Assert.Equal(2.5, j.GetProperty("style").GetDouble());
        Assert.Equal(0.5, j.GetProperty("content").GetDouble());
    }

    [Fact]
    public void JsonLog_KeepsTheStylizeFieldsAndAddsTrainingFieldsOnlyWhenSet()
    {
        var plain = JsonDocument.Parse(JsonLog.Format(Row(0, 5, 1, new() { ["content:a"] = 1 }))).RootElement;
        Assert.Equal(["iteration", "seconds", "loss", "content", "style", "tv", "terms"], plain.EnumerateObject().Select(p => p.Name));

        var training = Row(7, 100, 1, new() { ["content:a"] = 1 }) with { Epoch = 2, TotalEpochs = 3, Batch = 5, TotalBatches = 50, LearningRate = 1e-3, ImagesPerSecond = 4.5 };
        var j = JsonDocument.Parse(JsonLog.Format(training)).RootElement;
        Assert.Equal(2, j.GetProperty("epoch").GetInt32());
        Assert.Equal(3, j.GetProperty("epochs").GetInt32());
        Assert.Equal(5, j.GetProperty("batch").GetInt32());
        Assert.Equal(50, j.GetProperty("batches").GetInt32());
        Assert.Equal(1e-3, j.GetProperty("learning_rate").GetDouble());
        Assert.Equal(4.5, j.GetProperty("images_per_second").GetDouble());
    }

    [Fact]
    public void JsonLog_File_OneParsableRowPerReport()
    {
        string path = Path.Combine(Directory.CreateTempSubdirectory("ns-log-").FullName, "sub", "log.jsonl");
        using (var log = new JsonLog(path))
        {
            log.Write(Row(0, 2, 3, new() { ["a\"b"] = 1 }));
            log.Write(Row(1, 2, 2, new() { ["a\"b"] = 1 }));
        }
        string[] rows = File.ReadAllLines(path);
        Assert.Equal(2, rows.Length);
        Assert.All(rows, r => Assert.Equal(1, JsonDocument.Parse(r).RootElement.GetProperty("terms").GetProperty("a\"b").GetDouble()));
        Directory.Delete(Path.GetDirectoryName(Path.GetDirectoryName(path))!, recursive: true);
    }

    public static TheoryData<bool> Bars => new() { true, false };

    [Theory]
    [MemberData(nameof(Bars))]
    public void ProgressLine_HugeValues_FitsIn79Columns(bool bar)
    {
        string longName = new('x', 120);
        var terms = new Dictionary<string, double>
        {
            ["content:" + longName] = 1e30, ["style:relu1_1"] = -3.3e+30, [longName + "_a"] = double.NaN, [longName + "_b"] = 1e-30,
            ["tv"] = 123456789,
        };
        var r = new ProgressRecord(100000, 100000, 1e9, 1e30, terms)
        {
            Stage = "scale 12/12 16384×16384 " + longName, Epoch = 1000, TotalEpochs = 1000, LearningRate = 1e-30, ImagesPerSecond = 1e6,
        };
        string line = ProgressBar.Line(r, bar);
        Assert.True(line.Length <= ProgressBar.MaxWidth, $"{line.Length} columns: {line}");
        Assert.Contains("100000/100000", line);
        Assert.Contains("loss 1e+30", line);
    }

    [Fact]
    public void ProgressLine_Ordinary_ShowsGroupsRateAndTimeLeft()
    {
        var r = Row(50, 100, 1234.5678, new() { ["content:relu4_2"] = 12.5, ["style:relu1_1"] = 1000, ["tv"] = 0.25 });
        string line = ProgressBar.Line(r, bar: false);
        Assert.True(line.Length <= ProgressBar.MaxWidth, line);
        Assert.Contains("50/100", line);
        Assert.Contains("loss 1235", line);
        Assert.Contains("content 12.5", line);
        Assert.Contains("style 1000", line);
        Assert.Contains("it/s", line);
        Assert.Contains("00:12 left", line);
    }

    [Fact]
    public void ProgressLine_TooLong_DropsTheBreakdownBeforeTheLoss()
    {
        var r = Row(5, 10, 2, new() { ["content:" + new string('c', 40)] = 1, ["style:" + new string('s', 40)] = 1, ["other" + new string('o', 40)] = 1 });
        string line = ProgressBar.Line(r, bar: true, width: 60);
        Assert.True(line.Length <= 60, line);
        Assert.Contains("loss 2", line);
        Assert.Contains("5/10", line);
    }

    [Theory]
    [InlineData(0, "0")]
    [InlineData(1234.5678, "1235")]
    [InlineData(0.012345, "0.01235")]
    [InlineData(1e30, "1e+30")]
    [InlineData(-3.3e30, "-3.3e+30")]
    [InlineData(1.5e-7, "1.5e-7")]
    [InlineData(double.NaN, "nan")]
    public void Compact_Numbers(double v, string expected) => Assert.Equal(expected, ProgressBar.Compact(v));

    [Fact]
    public void Line_OfAJobWithoutALoss_ShowsImagesAndSpeed_NotALoss()
    {
        var r = new ProgressRecord(3, 8, 2.0, double.NaN, new Dictionary<string, double>()) { ImagesPerSecond = 1.5 };
        string line = ProgressBar.Line(r, bar: false);
        Assert.Contains("3/8", line);
        Assert.DoesNotContain("loss", line);
    }
}
