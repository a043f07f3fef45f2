using System.Collections.Concurrent;
using NeuralStyle.Tensors;
using NeuralStyle.Tensors.Training;

namespace NeuralStyle.Core;

/// <summary>One training batch and where the data order stood right after it was drawn (what a checkpoint saves).</summary>
internal sealed record Batch(float[] Pixels, DataPosition PositionAfter, RngState RngAfter);

/// <summary>
/// Decodes batches on a background thread while the training step runs: a bounded producer/consumer queue. The
/// producer owns the data order; each batch carries the order's position after it, so a checkpoint taken after
/// consuming it resumes exactly there however far the producer has read ahead. A skipped image is replaced by the
/// next one of the order, the same way every time, so runs stay reproducible.
/// </summary>
internal sealed class BatchFeeder : IDisposable
{
    private readonly BlockingCollection<Batch> _queue;
    private readonly CancellationTokenSource _stop = new();
    private readonly Thread _thread;
    private Exception? _failure;

    public BatchFeeder(ImageFolderDataset data, ShuffledOrder order, int batchSize, int size, int capacity = 2)
    {
        _queue = new BlockingCollection<Batch>(capacity);
        _thread = new Thread(() => Produce(data, order, batchSize, size)) { IsBackground = true, Name = "training batches" };
        _thread.Start();
    }

    private void Produce(ImageFolderDataset data, ShuffledOrder order, int batchSize, int size)
    {
        try
        {
            int per = size * size * 3, failuresInARow = 0;
            while (!_stop.IsCancellationRequested)
            {
                var pixels = new float[batchSize * per];
                for (int b = 0; b < batchSize; b++)
                {
                    while (true)
                    {
                        float[]? img = data.TryLoad(order.Next(), size);
                        if (img is not null)
                        {
                            img.CopyTo(pixels, b * per);
                            failuresInARow = 0;
                            break;
                        }
                        if (++failuresInARow >= 2 * data.Count)
                            throw new OptionException("Dataset", $"None of the {data.Count} images in the {{Dataset}} folder '{data.Folder}' can be used.");
                    }
                }
                _queue.Add(new Batch(pixels, order.ExportPosition(), order.Rng.ExportState()), _stop.Token);
            }
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
        }
        catch (Exception e)
        {
            _failure = e;
        }
        finally
        {
            _queue.CompleteAdding();
        }
    }

    /// <summary>The next batch (waits for the producer); rethrows what stopped the producer.</summary>
    public Batch Take()
    {
        if (_queue.TryTake(out Batch? batch, Timeout.Infinite)) return batch;
        throw _failure is null ? new InvalidOperationException("The batch producer stopped.")
            : _failure is OptionException oe ? new OptionException(oe.Option, oe.Sentence, oe) : new InvalidOperationException(_failure.Message, _failure);
    }

    public void Dispose()
    {
        _stop.Cancel();
        while (_queue.TryTake(out _)) { }
        _thread.Join();
        _queue.Dispose();
        _stop.Dispose();
    }
}
