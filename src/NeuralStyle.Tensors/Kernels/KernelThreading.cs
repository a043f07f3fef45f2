namespace NeuralStyle.Tensors.Kernels;

/// <summary>How many threads the kernels may use.</summary>
public static class KernelThreading
{
    private static int maxDegree = Environment.ProcessorCount;

    /// <summary>Upper bound on the threads one kernel call uses (1 = single-threaded). Defaults to the processor count.</summary>
    public static int MaxDegree
    {
        get => maxDegree;
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 1);
            maxDegree = value;
        }
    }

    /// <summary>
    /// Runs <paramref name="body"/>(start, end) over [0, count) split into at most MaxDegree contiguous chunks
    /// of roughly equal size; runs inline when one chunk suffices. <paramref name="minPerChunk"/> bounds the
    /// chunk size from below so that tiny problems are not split.
    /// </summary>
    internal static void For(int count, int minPerChunk, Action<int, int> body)
    {
        if (count <= 0)
        {
            return;
        }

        int chunks = Math.Min(maxDegree, Math.Max(1, count / Math.Max(1, minPerChunk)));
        chunks = Math.Min(chunks, count);
        if (chunks <= 1)
        {
            body(0, count);
            return;
        }

        if (chunks == 2)
        {
            // The common case on this machine: one chunk on a pool thread, one on the caller.
            int half = (count + 1) / 2;
            var task = Task.Factory.StartNew(
                () => body(half, count), CancellationToken.None, TaskCreationOptions.None, TaskScheduler.Default);
            Exception? callerError = null;
            try
            {
                body(0, half);
            }
            catch (Exception e)
            {
                callerError = e;
            }

            task.GetAwaiter().GetResult();
            if (callerError is not null)
            {
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(callerError);
            }

            return;
        }

        Parallel.For(0, chunks, new ParallelOptions { MaxDegreeOfParallelism = chunks }, i =>
        {
            long start = (long)count * i / chunks;
            long end = (long)count * (i + 1) / chunks;
            body((int)start, (int)end);
        });
    }
}
