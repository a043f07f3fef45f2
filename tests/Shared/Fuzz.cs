using System.Diagnostics;
using Xunit;

namespace NeuralStyle.TestSupport;

/// <summary>One mutated file and the name of the seed file it was made from.</summary>
public sealed record Mutant(byte[] Bytes, string Seed);

/// <summary>
/// The hostile-input loop the file readers' fuzz tests share: draws mutants from a fixed-seed generator, runs the
/// reader on each, counts how each ended and fails on any other exception, on a slow or memory-hungry mutant, or on a
/// slow run. What a test asserts on the counts (both outcomes must occur) stays in the test.
/// </summary>
public static class Fuzz
{
    /// <param name="draw">The next mutant (all randomness from the generator given, so runs repeat).</param>
    /// <param name="attempt">Reads a mutant and names how it ended (e.g. "read"); the expected exceptions are caught there and named too.</param>
    /// <param name="maxAllocation">The bytes one mutant may make the reader allocate, plus <paramref name="allocationPerByte"/> per byte of the mutant.</param>
    public static FuzzOutcomes Run(int count, Random rng, Func<Random, Mutant> draw, Func<Mutant, string> attempt,
        long maxAllocation, long allocationPerByte = 0)
    {
        var outcomes = new Dictionary<string, int>(StringComparer.Ordinal);
        long worstMs = 0;
        var total = Stopwatch.StartNew();
        for (int n = 0; n < count; n++)
        {
            Mutant mutant = draw(rng);
            var one = Stopwatch.StartNew();
            long before = GC.GetAllocatedBytesForCurrentThread();
            string outcome = "";
            try
            {
                outcome = attempt(mutant);
            }
            catch (Exception e)
            {
                Assert.Fail($"mutant {n} of {mutant.Seed} threw {e.GetType().Name}: {e.Message}\n{e.StackTrace}\n{Convert.ToBase64String(mutant.Bytes)}");
            }
            outcomes[outcome] = outcomes.GetValueOrDefault(outcome) + 1;
            long allocated = GC.GetAllocatedBytesForCurrentThread() - before, limit = maxAllocation + allocationPerByte * mutant.Bytes.Length;
            Assert.True(allocated < limit, $"mutant {n} of {mutant.Seed} allocated {allocated} bytes (limit {limit})");
            worstMs = Math.Max(worstMs, one.ElapsedMilliseconds);
        }
        Assert.True(total.Elapsed < TimeSpan.FromSeconds(60), $"{count} mutants took {total.Elapsed}");
        Assert.True(worstMs < 2000, $"slowest mutant took {worstMs} ms");
        return new FuzzOutcomes(outcomes);
    }
}

/// <summary>How many mutants ended each way.</summary>
public sealed class FuzzOutcomes(IReadOnlyDictionary<string, int> counts)
{
    public int this[string outcome] => counts.GetValueOrDefault(outcome);
}
