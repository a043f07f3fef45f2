namespace NeuralStyle.Weights.Mat;

/// <summary>MATLAB array classes (the class byte of an miMATRIX element's array flags).</summary>
public enum MatClass : byte
{
    Cell = 1, Struct = 2, Object = 3, Char = 4, Sparse = 5, Double = 6, Single = 7,
    Int8 = 8, UInt8 = 9, Int16 = 10, UInt16 = 11, Int32 = 12, UInt32 = 13, Int64 = 14, UInt64 = 15,
    Function = 16, Opaque = 17,
}

/// <summary>One MATLAB array read from a MAT-file: its name (empty inside cells and structs) and dimensions (column-major).</summary>
public abstract class MatValue
{
    private protected MatValue(string name, int[] dims)
    {
        Name = name;
        Dims = dims;
    }

    public string Name { get; }

    /// <summary>The dimensions as MATLAB stores them (at least two; column-major: the first index varies fastest).</summary>
    public int[] Dims { get; }

    /// <summary>The number of elements (the product of <see cref="Dims"/>).</summary>
    public long Count
    {
        get
        {
            long n = 1;
            foreach (int d in Dims) n *= d;
            return n;
        }
    }

    public string DimsText => string.Join("×", Dims);
}

/// <summary>A numeric or logical array. Data is kept in MATLAB's column-major order.</summary>
public sealed class MatNumeric : MatValue
{
    private readonly double[]? _data;

    internal MatNumeric(string name, int[] dims, MatClass cls, double[]? data) : base(name, dims)
    {
        Class = cls;
        _data = data;
    }

    public MatClass Class { get; }

    /// <summary>True when the array was larger than the reader keeps (<see cref="MatReadOptions.MaxArrayElements"/>) and its data was skipped.</summary>
    public bool Skipped => _data is null;

    /// <summary>The values in column-major order (double holds every MATLAB numeric class of up to 53 bits exactly).</summary>
    public ReadOnlySpan<double> Values => _data ?? throw new InvalidOperationException($"The data of the {DimsText} array '{Name}' was skipped (too large).");
}

/// <summary>A char array; only row vectors (1×N) are meaningful as text, others keep their column-major characters.</summary>
public sealed class MatChar : MatValue
{
    internal MatChar(string name, int[] dims, string text) : base(name, dims) => Text = text;

    public string Text { get; }
}

/// <summary>A cell array: its items in column-major order.</summary>
public sealed class MatCell : MatValue
{
    internal MatCell(string name, int[] dims, MatValue[] items) : base(name, dims) => Items = items;

    public IReadOnlyList<MatValue> Items { get; }
}

/// <summary>A struct array: field names and, for each element (column-major), one value per field.</summary>
public sealed class MatStruct : MatValue
{
    private readonly MatValue[][] _elements;

    internal MatStruct(string name, int[] dims, string[] fieldNames, MatValue[][] elements) : base(name, dims)
    {
        FieldNames = fieldNames;
        _elements = elements;
    }

    public IReadOnlyList<string> FieldNames { get; }

    /// <summary>Field <paramref name="field"/> of element <paramref name="element"/>, or null when the struct has no such field or element.</summary>
    public MatValue? Field(string field, int element = 0)
    {
        int f = Array.IndexOf((string[])FieldNames, field);
        return f < 0 || element < 0 || element >= _elements.Length ? null : _elements[element][f];
    }
}

/// <summary>An array of a class this reader does not decode (objects, sparse matrices, function handles); its bytes were skipped.</summary>
public sealed class MatUnsupported : MatValue
{
    internal MatUnsupported(string name, int[] dims, MatClass cls) : base(name, dims) => Class = cls;

    public MatClass Class { get; }
}

/// <summary>Limits that keep a hostile file from costing more than a real one.</summary>
public sealed record MatReadOptions
{
    /// <summary>Numeric arrays with more elements than this are not kept (their dimensions are; <see cref="MatNumeric.Skipped"/>).
    /// The default (8 M) keeps every VGG convolution (at most 3×3×512×512) and skips the big fully-connected layers.</summary>
    public long MaxArrayElements { get; init; } = 8L << 20;

    /// <summary>The most arrays (cells, structs and their contents) one file may hold.</summary>
    public int MaxArrays { get; init; } = 1_000_000;

    /// <summary>The deepest nesting of cells and structs.</summary>
    public int MaxDepth { get; init; } = 32;

    /// <summary>The most bytes of kept array data in total.</summary>
    public long MaxKeptBytes { get; init; } = 2L << 30;
}
