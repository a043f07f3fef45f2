using NeuralStyle.Models.Johnson;
using NeuralStyle.Weights;
using NeuralStyle.Weights.Torch;

namespace NeuralStyle.FastStyle;

/// <summary>Writes a trained TransformerNet in one of the <see cref="ModelFormat"/>s (each atomically).</summary>
public static class ModelExport
{
    /// <summary>The format an output path asks for by its extension (.pth, .onnx; anything else safetensors).</summary>
    public static ModelFormat FormatFor(string path) => Path.GetExtension(path).ToLowerInvariant() switch
    {
        ".pth" or ".pt" => ModelFormat.Pth,
        ".onnx" => ModelFormat.Onnx,
        _ => ModelFormat.Safetensors,
    };

    public static void Write(string path, TransformerNet net, ModelFormat format, IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(net);
        switch (format)
        {
            case ModelFormat.Safetensors:
                var meta = new Dictionary<string, string>(metadata ?? new Dictionary<string, string>()) { ["arch"] = net.Architecture.Name, ["method"] = "fast-style" };
                SafeTensors.Write(path, net.StateDict(), meta);
                break;
            case ModelFormat.Pth:
                TorchWriter.Write(path, net.StateDict());
                break;
            case ModelFormat.Onnx:
                TransformerNetOnnx.Write(path, net);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(format), format, "Unknown model format.");
        }
    }
}
