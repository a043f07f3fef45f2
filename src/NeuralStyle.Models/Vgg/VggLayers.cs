namespace NeuralStyle.Models.Vgg;

public enum VggArchitecture { Vgg16, Vgg19 }

public enum LayerKind { Conv, Relu, Pool }

/// <summary>One module of torchvision's VGG <c>features</c>.</summary>
public sealed record VggModule(int Index, LayerKind Kind, int Block, int Number, int OutChannelsStandard)
{
    /// <summary>Gatys/Caffe name: conv4_2, relu4_2, pool4.</summary>
    public string CaffeName => Kind switch
    {
        LayerKind.Conv => $"conv{Block}_{Number}",
        LayerKind.Relu => $"relu{Block}_{Number}",
        _ => $"pool{Block}",
    };
}

/// <summary>A resolved layer request: the module whose output is wanted, and whether a conv is read before its ReLU.</summary>
public readonly record struct LayerRef(int Index, string Name);

/// <summary>The layer table of VGG-16/19 and the three naming schemes of spec §1.</summary>
public sealed class VggLayers
{
    private static readonly int[] Vgg19Blocks = [2, 2, 4, 4, 4];
    private static readonly int[] Vgg16Blocks = [2, 2, 3, 3, 3];
    private static readonly int[] StandardWidths = [64, 128, 256, 512, 512];

    private readonly Dictionary<string, LayerRef> _byName = new(StringComparer.OrdinalIgnoreCase);

    private VggLayers(VggArchitecture arch)
    {
        Architecture = arch;
        var modules = new List<VggModule>();
        int[] blocks = arch == VggArchitecture.Vgg19 ? Vgg19Blocks : Vgg16Blocks;
        int index = 0;
        for (int b = 0; b < blocks.Length; b++)
        {
            for (int n = 1; n <= blocks[b]; n++)
            {
                modules.Add(new VggModule(index++, LayerKind.Conv, b + 1, n, StandardWidths[b]));
                modules.Add(new VggModule(index++, LayerKind.Relu, b + 1, n, StandardWidths[b]));
            }
            modules.Add(new VggModule(index++, LayerKind.Pool, b + 1, 0, StandardWidths[b]));
        }
        Modules = modules;
        foreach (VggModule m in modules)
        {
            switch (m.Kind)
            {
                case LayerKind.Conv:
                    // The plain conv name means the post-ReLU value (what every reference reads, spec §1).
                    _byName[$"pre-relu:conv{m.Block}_{m.Number}"] = new(m.Index, $"pre-relu:conv{m.Block}_{m.Number}");
                    _byName[$"pre-relu:{m.Index}"] = new(m.Index, $"pre-relu:conv{m.Block}_{m.Number}");
                    _byName[$"conv{m.Block}_{m.Number}"] = new(m.Index + 1, $"relu{m.Block}_{m.Number}");
                    _byName[$"block{m.Block}_conv{m.Number}"] = new(m.Index + 1, $"relu{m.Block}_{m.Number}");
                    _byName[m.Index.ToString(System.Globalization.CultureInfo.InvariantCulture)] = new(m.Index + 1, $"relu{m.Block}_{m.Number}");
                    break;
                case LayerKind.Relu:
                    _byName[m.CaffeName] = new(m.Index, m.CaffeName);
                    _byName[m.Index.ToString(System.Globalization.CultureInfo.InvariantCulture)] = new(m.Index, m.CaffeName);
                    break;
                default:
                    _byName[m.CaffeName] = new(m.Index, m.CaffeName);
                    _byName[$"block{m.Block}_pool"] = new(m.Index, m.CaffeName);
                    _byName[m.Index.ToString(System.Globalization.CultureInfo.InvariantCulture)] = new(m.Index, m.CaffeName);
                    break;
            }
        }
    }

    public static VggLayers Vgg19 { get; } = new(VggArchitecture.Vgg19);
    public static VggLayers Vgg16 { get; } = new(VggArchitecture.Vgg16);

    public static VggLayers For(VggArchitecture arch) => arch == VggArchitecture.Vgg19 ? Vgg19 : Vgg16;

    public VggArchitecture Architecture { get; }
    public IReadOnlyList<VggModule> Modules { get; }

    public IEnumerable<int> ConvIndices => Modules.Where(m => m.Kind == LayerKind.Conv).Select(m => m.Index);

    /// <summary>Resolves any of the three names; an unknown name lists the valid ones.</summary>
    public LayerRef Resolve(string name)
    {
        string key = name.Trim();
        if (_byName.TryGetValue(key, out LayerRef r)) return r;
        string valid = string.Join(", ", Modules.Where(m => m.Kind != LayerKind.Conv).Select(m => m.CaffeName));
        throw new ArgumentException(
            $"Unknown layer '{name}' for {(Architecture == VggArchitecture.Vgg19 ? "VGG-19" : "VGG-16")}; valid names are {valid} " +
            "(also convX_Y for the post-ReLU value, pre-relu:convX_Y, Keras names like block4_conv2 or block4_pool, and torchvision indices 0-" +
            $"{Modules.Count - 1}).");
    }
}
