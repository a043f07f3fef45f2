using System.Buffers.Binary;
using System.Numerics;
using System.Text;

namespace NeuralStyle.Weights.Pickle;

/// <summary>
/// A pickle interpreter for the opcodes <c>torch.save</c> emits (protocols 0-2 plus PROTO/FRAME/MEMOIZE/STACK_GLOBAL).
/// This is a security boundary: GLOBAL / STACK_GLOBAL resolve only an explicit whitelist of names
/// (OrderedDict, the tensor/parameter rebuild functions, the torch storage types); anything else is
/// rejected with <see cref="WeightFormatException"/> at the moment it is named. Nothing is ever executed:
/// the "calls" build inert C# records.
/// </summary>
internal sealed class Unpickler
{
    private const int MaxLine = 512;

    private readonly Stream _stream;
    private readonly Func<object?[], object?> _persistentLoad;
    private readonly string _what;
    private readonly List<object?> _stack = new();
    private readonly Stack<int> _marks = new();
    private readonly Dictionary<long, object?> _memo = new();

    /// <param name="stream">A seekable stream positioned at the first opcode; left positioned just after STOP.</param>
    /// <param name="persistentLoad">Called for BINPERSID with the persistent-id tuple.</param>
    /// <param name="what">Names the pickle in error messages (e.g. "data.pkl").</param>
    public Unpickler(Stream stream, Func<object?[], object?> persistentLoad, string what)
    {
        if (!stream.CanSeek) throw new ArgumentException("The pickle stream must be seekable.", nameof(stream));
        _stream = stream;
        _persistentLoad = persistentLoad;
        _what = what;
    }

    /// <summary>Returns the whitelisted global for a module/name pair, or throws naming it.</summary>
    public static PyGlobal ResolveGlobal(string module, string name)
    {
        string qualified = module + "." + name;
        switch (qualified)
        {
            case "collections.OrderedDict": return new PyGlobal(GlobalKind.OrderedDict, qualified);
            case "torch._utils._rebuild_tensor_v2": return new PyGlobal(GlobalKind.RebuildTensorV2, qualified);
            case "torch._utils._rebuild_tensor": return new PyGlobal(GlobalKind.RebuildTensor, qualified);
            case "torch._utils._rebuild_parameter": return new PyGlobal(GlobalKind.RebuildParameter, qualified);
            case "torch._utils._rebuild_parameter_with_state": return new PyGlobal(GlobalKind.RebuildParameterWithState, qualified);
        }
        if (module == "torch" && DTypes.FromTorchStorage(name) is DType dt)
            return new PyGlobal(GlobalKind.StorageType, qualified, dt);

        string hint = module.StartsWith("torch", StringComparison.Ordinal) || module.StartsWith("torchvision", StringComparison.Ordinal)
            ? " If this file is a whole saved model, re-save it with torch.save(model.state_dict(), path)."
            : "";
        throw new WeightFormatException(
            $"The weights file references the Python global '{qualified}', which is not an allowed tensor-rebuild function, so it was refused and nothing was run.{hint}");
    }

    public object? Load()
    {
        while (true)
        {
            long at = _stream.Position;
            int op = _stream.ReadByte();
            if (op < 0) throw Fail("ends before its STOP opcode (the file is truncated)");
            switch (op)
            {
                case 0x80: // PROTO
                    {
                        int proto = ReadU8();
                        if (proto > 5) throw Fail($"uses pickle protocol {proto}, which is not supported");
                        break;
                    }
                case 0x95: ReadExact(8); break; // FRAME: a length hint only
                case '.': // STOP
                    {
                        if (_stack.Count != 1 || _marks.Count != 0) throw Fail("is malformed (the stack is not balanced at STOP)");
                        return _stack[0];
                    }
                case '(': _marks.Push(_stack.Count); break; // MARK
                case '0': Pop(); break; // POP
                case '1': PopMark(); break; // POP_MARK
                case '2': Push(Peek()); break; // DUP
                case 'N': Push(null); break;
                case 0x88: Push(true); break;
                case 0x89: Push(false); break;
                case 'I': // INT (text)
                    {
                        string s = ReadLine();
                        if (s == "00") Push(false);
                        else if (s == "01") Push(true);
                        else Push(ParseLong(s));
                        break;
                    }
                case 'L': Push(ParseLong(ReadLine().TrimEnd('L'))); break; // LONG (text)
                case 'J': Push((long)BinaryPrimitives.ReadInt32LittleEndian(ReadExact(4))); break; // BININT
                case 'K': Push((long)ReadU8()); break; // BININT1
                case 'M': Push((long)BinaryPrimitives.ReadUInt16LittleEndian(ReadExact(2))); break; // BININT2
                case 0x8a: Push(ReadLong(ReadU8())); break; // LONG1
                case 0x8b: // LONG4
                    {
                        int n = BinaryPrimitives.ReadInt32LittleEndian(ReadExact(4));
                        if (n < 0 || n > 4096) throw Fail($"has an integer of {n} bytes at offset {at}, which is not plausible");
                        Push(ReadLong(n));
                        break;
                    }
                case 'G': Push(BinaryPrimitives.ReadDoubleBigEndian(ReadExact(8))); break; // BINFLOAT
                case 'F': // FLOAT (text)
                    {
                        string s = ReadLine();
                        if (!double.TryParse(s, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out double d))
                            throw Fail($"has an invalid float literal at offset {at}");
                        Push(d);
                        break;
                    }
                case 'X': Push(Encoding.UTF8.GetString(ReadExact(ReadLength32()))); break; // BINUNICODE
                case 0x8c: Push(Encoding.UTF8.GetString(ReadExact(ReadU8()))); break; // SHORT_BINUNICODE
                case 0x8d: Push(Encoding.UTF8.GetString(ReadExact(ReadLength64()))); break; // BINUNICODE8
                case 'T': Push(Encoding.Latin1.GetString(ReadExact(ReadLength32()))); break; // BINSTRING (Python 2 str)
                case 'U': Push(Encoding.Latin1.GetString(ReadExact(ReadU8()))); break; // SHORT_BINSTRING
                case 'B': Push(ReadExact(ReadLength32())); break; // BINBYTES
                case 'C': Push(ReadExact(ReadU8())); break; // SHORT_BINBYTES
                case 0x8e: Push(ReadExact(ReadLength64())); break; // BINBYTES8
                case ')': Push(Array.Empty<object?>()); break; // EMPTY_TUPLE
                case 't': Push(PopMark().ToArray()); break; // TUPLE
                case 0x85: { var a = Pop(); Push(new[] { a }); break; } // TUPLE1
                case 0x86: { var b = Pop(); var a = Pop(); Push(new[] { a, b }); break; } // TUPLE2
                case 0x87: { var c = Pop(); var b = Pop(); var a = Pop(); Push(new[] { a, b, c }); break; } // TUPLE3
                case ']': Push(new List<object?>()); break; // EMPTY_LIST
                case 'l': Push(PopMark()); break; // LIST
                case 'a': { var v = Pop(); AsList(Peek()).Add(v); break; } // APPEND
                case 'e': { var items = PopMark(); AsList(Peek()).AddRange(items); break; } // APPENDS
                case '}': Push(new PyDict()); break; // EMPTY_DICT
                case 'd': // DICT
                    {
                        var items = PopMark();
                        var dict = new PyDict();
                        SetItems(dict, items);
                        Push(dict);
                        break;
                    }
                case 's': { var v = Pop(); var k = Pop(); AsDict(Peek()).Set(k, v); break; } // SETITEM
                case 'u': { var items = PopMark(); SetItems(AsDict(Peek()), items); break; } // SETITEMS
                case 'g': Push(MemoGet(ParseLong(ReadLine()))); break; // GET
                case 'h': Push(MemoGet(ReadU8())); break; // BINGET
                case 'j': Push(MemoGet(BinaryPrimitives.ReadUInt32LittleEndian(ReadExact(4)))); break; // LONG_BINGET
                case 'p': _memo[ParseLong(ReadLine())] = Peek(); break; // PUT
                case 'q': _memo[ReadU8()] = Peek(); break; // BINPUT
                case 'r': _memo[BinaryPrimitives.ReadUInt32LittleEndian(ReadExact(4))] = Peek(); break; // LONG_BINPUT
                case 0x94: _memo[_memo.Count] = Peek(); break; // MEMOIZE
                case 'c': // GLOBAL
                    {
                        string module = ReadLine();
                        string name = ReadLine();
                        Push(ResolveGlobal(module, name));
                        break;
                    }
                case 0x93: // STACK_GLOBAL
                    {
                        var name = Pop();
                        var module = Pop();
                        if (module is not string m || name is not string n) throw Fail($"has a STACK_GLOBAL without string names at offset {at}");
                        Push(ResolveGlobal(m, n));
                        break;
                    }
                case 'R': // REDUCE
                    {
                        var args = Pop();
                        var func = Pop();
                        Push(Call(func, AsTuple(args, "REDUCE arguments")));
                        break;
                    }
                case 0x81: // NEWOBJ
                    {
                        var args = Pop();
                        var cls = Pop();
                        if (cls is PyGlobal { Kind: GlobalKind.OrderedDict }) Push(Call(cls, AsTuple(args, "NEWOBJ arguments")));
                        else throw Fail($"constructs an object of a type other than OrderedDict at offset {at}");
                        break;
                    }
                case 'b': // BUILD
                    {
                        Pop(); // state: OrderedDict's _metadata, a tensor's backward hooks: not needed
                        var target = Peek();
                        if (target is not (PyDict or TensorRef))
                            throw Fail($"sets the state of an unexpected object ({Describe(target)}) at offset {at}");
                        break;
                    }
                case 'Q': // BINPERSID
                    {
                        var pid = Pop();
                        Push(_persistentLoad(AsTuple(pid, "persistent id")));
                        break;
                    }
                case 'P': throw Fail("uses a text persistent id (PERSID), which torch.save never writes");
                default:
                    throw Fail($"uses the unsupported pickle opcode 0x{op:x2} at offset {at}");
            }
        }
    }

    private object? Call(object? func, object?[] args)
    {
        if (func is not PyGlobal g) throw Fail($"calls a value that is not a whitelisted function ({Describe(func)})");
        switch (g.Kind)
        {
            case GlobalKind.OrderedDict:
                {
                    var dict = new PyDict();
                    if (args.Length == 1 && args[0] is List<object?> pairs) // Python 2 OrderedDict.__reduce__: [[k, v], ...]
                    {
                        foreach (var p in pairs)
                        {
                            var kv = p switch
                            {
                                object?[] t => t,
                                List<object?> l => l.ToArray(),
                                _ => throw Fail("has an OrderedDict whose items are not pairs"),
                            };
                            if (kv.Length != 2) throw Fail("has an OrderedDict whose items are not pairs");
                            dict.Set(kv[0], kv[1]);
                        }
                    }
                    else if (args.Length != 0) throw Fail("calls OrderedDict with unexpected arguments");
                    return dict;
                }
            case GlobalKind.RebuildTensorV2:
                if (args.Length is < 6 or > 7) throw Fail($"calls _rebuild_tensor_v2 with {args.Length} arguments instead of 6");
                return RebuildTensor(args);
            case GlobalKind.RebuildTensor:
                if (args.Length != 4) throw Fail($"calls _rebuild_tensor with {args.Length} arguments instead of 4");
                return RebuildTensor(args);
            case GlobalKind.RebuildParameter:
            case GlobalKind.RebuildParameterWithState:
                if (args.Length < 1 || args[0] is not TensorRef data) throw Fail("calls _rebuild_parameter without a tensor");
                return data;
            default:
                throw Fail($"calls {g.QualifiedName} directly, which torch.save never does");
        }
    }

    private TensorRef RebuildTensor(object?[] args)
    {
        if (args[0] is not StorageRef storage) throw Fail("rebuilds a tensor from something that is not a storage");
        long offset = AsLong(args[1], "storage offset");
        var sizeT = AsTuple(args[2], "tensor size");
        var strideT = AsTuple(args[3], "tensor stride");
        if (sizeT.Length != strideT.Length) throw Fail("has a tensor whose size and stride have different lengths");
        if (sizeT.Length > 32) throw Fail($"has a tensor of rank {sizeT.Length}, which is not plausible");
        var size = new int[sizeT.Length];
        var stride = new long[sizeT.Length];
        for (int i = 0; i < size.Length; i++)
        {
            long s = AsLong(sizeT[i], "tensor size");
            if (s < 0 || s > int.MaxValue) throw Fail($"has a tensor dimension of {s}, which is not supported");
            size[i] = (int)s;
            stride[i] = AsLong(strideT[i], "tensor stride");
            if (stride[i] < 0) throw Fail("has a tensor with a negative stride");
        }
        if (offset < 0) throw Fail("has a tensor with a negative storage offset");
        return new TensorRef(storage, offset, size, stride);
    }

    private static void SetItems(PyDict dict, List<object?> items)
    {
        if (items.Count % 2 != 0) throw new WeightFormatException("The weights file's pickle is malformed (a dict has an odd number of items).");
        for (int i = 0; i < items.Count; i += 2) dict.Set(items[i], items[i + 1]);
    }

    public static long AsLong(object? v, string what) => v switch
    {
        long l => l,
        bool b => b ? 1 : 0,
        BigInteger big when big >= long.MinValue && big <= long.MaxValue => (long)big,
        _ => throw new WeightFormatException($"The weights file's pickle has a {what} that is not an integer ({Describe(v)})."),
    };

    private object?[] AsTuple(object? v, string what) => v switch
    {
        object?[] t => t,
        _ => throw Fail($"has {what} that are not a tuple ({Describe(v)})"),
    };

    private List<object?> AsList(object? v) => v as List<object?> ?? throw Fail($"appends to something that is not a list ({Describe(v)})");
    private PyDict AsDict(object? v) => v as PyDict ?? throw Fail($"sets an item on something that is not a dict ({Describe(v)})");

    internal static string Describe(object? v) => v switch
    {
        null => "None",
        string => "a string",
        long or BigInteger => "an integer",
        double => "a float",
        bool => "a bool",
        object?[] => "a tuple",
        List<object?> => "a list",
        PyDict => "a dict",
        PyGlobal g => g.QualifiedName,
        TensorRef => "a tensor",
        StorageRef => "a storage",
        byte[] => "bytes",
        _ => v.GetType().Name,
    };

    private void Push(object? v) => _stack.Add(v);

    private object? Pop()
    {
        if (_stack.Count == 0 || (_marks.Count > 0 && _stack.Count <= _marks.Peek())) throw Fail("is malformed (it pops from an empty stack)");
        var v = _stack[^1];
        _stack.RemoveAt(_stack.Count - 1);
        return v;
    }

    private object? Peek()
    {
        if (_stack.Count == 0 || (_marks.Count > 0 && _stack.Count <= _marks.Peek())) throw Fail("is malformed (it reads an empty stack)");
        return _stack[^1];
    }

    private List<object?> PopMark()
    {
        if (_marks.Count == 0) throw Fail("is malformed (a MARK is missing)");
        int m = _marks.Pop();
        var items = _stack.GetRange(m, _stack.Count - m);
        _stack.RemoveRange(m, _stack.Count - m);
        return items;
    }

    private object? MemoGet(long key) =>
        _memo.TryGetValue(key, out var v) ? v : throw Fail($"refers to memo entry {key}, which was never stored");

    private int ReadU8()
    {
        int b = _stream.ReadByte();
        if (b < 0) throw Fail("ends in the middle of an opcode (the file is truncated)");
        return b;
    }

    private int ReadLength32()
    {
        long n = BinaryPrimitives.ReadUInt32LittleEndian(ReadExact(4));
        return CheckLength(n);
    }

    private int ReadLength64()
    {
        ulong n = BinaryPrimitives.ReadUInt64LittleEndian(ReadExact(8));
        return CheckLength(n > long.MaxValue ? long.MaxValue : (long)n);
    }

    private int CheckLength(long n)
    {
        long remaining = _stream.Length - _stream.Position;
        if (n > remaining) throw Fail($"declares a {n}-byte value but only {remaining} bytes remain (the file is truncated or corrupt)");
        return (int)n;
    }

    private byte[] ReadExact(int n)
    {
        if (n > _stream.Length - _stream.Position) throw Fail("ends in the middle of an opcode (the file is truncated)");
        var buf = new byte[n];
        _stream.ReadExactly(buf);
        return buf;
    }

    private string ReadLine()
    {
        var sb = new StringBuilder();
        while (true)
        {
            int b = _stream.ReadByte();
            if (b < 0) throw Fail("ends in the middle of a text line (the file is truncated)");
            if (b == '\n') break;
            if (sb.Length >= MaxLine) throw Fail("has an implausibly long text line");
            sb.Append((char)b);
        }
        if (sb.Length > 0 && sb[^1] == '\r') sb.Length--;
        return sb.ToString();
    }

    private long ParseLong(string s) =>
        long.TryParse(s, System.Globalization.NumberStyles.AllowLeadingSign, System.Globalization.CultureInfo.InvariantCulture, out long v)
            ? v : throw Fail($"has an invalid integer literal '{s}'");

    private object ReadLong(int n)
    {
        var bytes = ReadExact(n);
        if (n == 0) return 0L;
        var big = new BigInteger(bytes, isUnsigned: false, isBigEndian: false);
        return big >= long.MinValue && big <= long.MaxValue ? (object)(long)big : big;
    }

    private WeightFormatException Fail(string what) => new($"The weights file's {_what} {what}.");
}
