using System.Globalization;
using NeuralStyle.Models.Vgg;

namespace NeuralStyle.Models.ResNet;

/// <summary>
/// The two ResNet-50 layouts (spec §1). They are not interchangeable: the same weights give different features.
/// </summary>
public enum ResNetLayout
{
    /// <summary>torchvision's "V1.5": the stride of a downsampling block sits on its 3×3 convolution; no conv biases; BN eps 1e-5.</summary>
    Torchvision,
    /// <summary>keras.applications.ResNet50, the original V1: the stride sits on the first 1×1 convolution; conv biases; BN eps 1.001e-5.</summary>
    Keras,
}

/// <summary>What a ResNet layer's value is.</summary>
public enum ResNetNodeKind
{
    /// <summary>A convolution's output before its batch norm (Keras <c>_conv</c>, torchvision <c>conv1</c>).</summary>
    Conv,
    /// <summary>The batch norm's output (folded into the convolution at load).</summary>
    BatchNorm,
    Relu,
    Pool,
    /// <summary>The residual sum before the block's last ReLU.</summary>
    Add,
    /// <summary>The block's output (after the ReLU).</summary>
    Out,
}

/// <summary>
/// One layer of ResNet-50 in computation order. <paramref name="Stage"/> is 1 for the stem and 2..5 for
/// <c>layer1..layer4</c> (Keras' numbering); <paramref name="Block"/> counts from 1; <paramref name="Unit"/> is the
/// Keras unit number (0 = shortcut, 1..3 = main path; -1 for add/out and the stem's pool).
/// </summary>
public sealed record ResNetNode(int Index, string Name, ResNetNodeKind Kind, int Stage, int Block, int Unit, int Channels, int Stride);

/// <summary>
/// The layer table of ResNet-50 and its naming schemes: Keras (<c>conv4_block6_out</c>, <c>conv1_relu</c>, the
/// canonical names), torchvision module paths (<c>layer3</c> = <c>layer3.5</c>, <c>layer3.5.bn2</c>, <c>relu</c>,
/// <c>maxpool</c>) and the old Keras 2.2 names (<c>res4a_branch2a</c>, <c>bn4a_branch2a</c>).
/// </summary>
public sealed class ResNetLayers
{
    /// <summary>Bottleneck blocks per stage (layer1..layer4).</summary>
    public static readonly int[] BlocksPerStage = [3, 4, 6, 3];

    private readonly Dictionary<string, LayerRef> _byName = new(StringComparer.OrdinalIgnoreCase);

    /// <param name="baseWidth">Stem width (64 in ResNet-50); stage s has bottleneck width baseWidth·2^(s-2) and 4× that at its output.</param>
    public ResNetLayers(int baseWidth)
    {
        if (baseWidth < 1) throw new ArgumentException($"A ResNet base width must be positive (got {baseWidth}).");
        BaseWidth = baseWidth;
        var nodes = new List<ResNetNode>();
        void Add(string name, ResNetNodeKind kind, int stage, int block, int unit, int channels, int stride, params string[] aliases)
        {
            var node = new ResNetNode(nodes.Count, name, kind, stage, block, unit, channels, stride);
            nodes.Add(node);
            var r = new LayerRef(node.Index, name);
            _byName[name] = r;
            foreach (string a in aliases) _byName[a] = r;
        }

        Add("conv1_conv", ResNetNodeKind.Conv, 1, 0, 1, baseWidth, 2, "conv1");
        Add("conv1_bn", ResNetNodeKind.BatchNorm, 1, 0, 1, baseWidth, 2, "bn1", "bn_conv1");
        Add("conv1_relu", ResNetNodeKind.Relu, 1, 0, 1, baseWidth, 2, "relu", "stem");
        Add("pool1_pool", ResNetNodeKind.Pool, 1, 0, -1, baseWidth, 4, "maxpool", "pool1");
        int stride = 4;
        for (int s = 0; s < BlocksPerStage.Length; s++)
        {
            int stage = s + 2, mid = baseWidth << s, outC = 4 * mid;
            for (int k = 0; k < BlocksPerStage[s]; k++)
            {
                if (k == 0 && s > 0) stride *= 2;
                string keras = $"conv{stage}_block{k + 1}", tv = $"layer{s + 1}.{k}";
                string old = $"{stage.ToString(CultureInfo.InvariantCulture)}{(char)('a' + k)}";
                for (int u = 1; u <= 3; u++)
                {
                    int c = u == 3 ? outC : mid;
                    char branch = (char)('a' + u - 1);
                    Add($"{keras}_{u}_conv", ResNetNodeKind.Conv, stage, k + 1, u, c, stride, $"{tv}.conv{u}", $"res{old}_branch2{branch}");
                    Add($"{keras}_{u}_bn", ResNetNodeKind.BatchNorm, stage, k + 1, u, c, stride, $"{tv}.bn{u}", $"bn{old}_branch2{branch}");
                    if (u < 3) Add($"{keras}_{u}_relu", ResNetNodeKind.Relu, stage, k + 1, u, c, stride);
                }
                if (k == 0)
                {
                    Add($"{keras}_0_conv", ResNetNodeKind.Conv, stage, 1, 0, outC, stride, $"{tv}.downsample.0", $"res{old}_branch1");
                    Add($"{keras}_0_bn", ResNetNodeKind.BatchNorm, stage, 1, 0, outC, stride, $"{tv}.downsample.1", $"bn{old}_branch1");
                }
                Add($"{keras}_add", ResNetNodeKind.Add, stage, k + 1, -1, outC, stride);
                string[] outAliases = k == BlocksPerStage[s] - 1 ? [tv, $"layer{s + 1}"] : [tv];
                Add($"{keras}_out", ResNetNodeKind.Out, stage, k + 1, -1, outC, stride, outAliases);
            }
        }
        Nodes = nodes;
    }

    public int BaseWidth { get; }

    /// <summary>Every layer in computation order; <see cref="ResNetNode.Index"/> is the position here.</summary>
    public IReadOnlyList<ResNetNode> Nodes { get; }

    /// <summary>Resolves any accepted name; an unknown name lists the valid ones.</summary>
    public LayerRef Resolve(string name)
    {
        if (_byName.TryGetValue(name.Trim(), out LayerRef r)) return r;
        throw new ArgumentException(
            $"Unknown layer '{name}' for ResNet-50; valid names are conv1_relu (stem), pool1_pool, layer1..layer4 (each stage's last block), " +
            "layerN.k (block k from 0 of stage N: layer1.0-2, layer2.0-3, layer3.0-5, layer4.0-3) and its .conv1-3/.bn1-3/.downsample.0-1, " +
            "the Keras names convS_blockB_{out,add} and convS_blockB_U_{conv,bn,relu} (S 2-5, B from 1, U 0-3), and the old Keras names like res4a_branch2a.");
    }
}
