using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using NeuralStyle.Tensors;
using NeuralStyle.Tensors.Training;
using NeuralStyle.Weights;

namespace NeuralStyle.Models.Training;

/// <summary>
/// A training run in one safetensors file: the parameters (<c>params.NAME</c>), the optimiser's buffers
/// (<c>optim.BUFFER.NAME</c>, e.g. <c>optim.exp_avg.conv1.weight</c>), and in <c>__metadata__</c> the architecture,
/// step, frozen parameters, optimiser settings, step counts and schedule, the Rng's exact state, the data position,
/// and the caller's free-form entries. Written atomically (by <see cref="SafeTensors.Write(string, IEnumerable{WeightTensor}, IReadOnlyDictionary{string, string}?)"/>);
/// resuming from it continues a run bit for bit.
/// </summary>
public static class Checkpoint
{
    public const string Format = "neuralstyle.checkpoint/1";

    private const string ParamPrefix = "params.", OptimPrefix = "optim.";
    private const string FormatKey = "format", ArchitectureKey = "architecture", StepKey = "step", FrozenKey = "frozen";
    private const string OptimizerKey = "optimizer", RngKey = "rng", DataKey = "data";
    private static readonly string[] ReservedKeys = [FormatKey, ArchitectureKey, StepKey, FrozenKey, OptimizerKey, RngKey, DataKey];

    /// <summary>
    /// Saves <paramref name="state"/> and the caller's <paramref name="metadata"/> (e.g. "options" as JSON) to
    /// <paramref name="path"/>, replacing it atomically.
    /// </summary>
    public static void Save(string path, TrainingState state, IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        CheckState(state);
        var meta = new Dictionary<string, string>();
        foreach (var (key, value) in metadata ?? new Dictionary<string, string>())
        {
            if (ReservedKeys.Contains(key)) throw new ArgumentException($"The metadata key '{key}' is reserved for the checkpoint itself.", nameof(metadata));
            meta[key] = value;
        }
        meta[FormatKey] = Format;
        meta[ArchitectureKey] = state.Architecture;
        meta[StepKey] = (state.Optimizer?.Steps ?? 0).ToString(CultureInfo.InvariantCulture);
        meta[FrozenKey] = new JsonArray([.. state.Parameters.Where(p => !p.Trainable).Select(p => JsonValue.Create(p.Name))]).ToJsonString();

        var tensors = state.Parameters.Select(p => new WeightTensor(ParamPrefix + p.Name, p.Shape, p.Data)).ToList();
        if (state.Optimizer is { } optimizer)
        {
            OptimizerState os = optimizer.ExportState();
            foreach (var (name, entry) in os.Parameters)
                foreach (var (buffer, data) in entry.Buffers)
                    tensors.Add(new WeightTensor($"{OptimPrefix}{buffer}.{name}", state.Parameters[name].Shape, data));
            meta[OptimizerKey] = OptimizerJson(os).ToJsonString();
        }
        if (state.Rng is { } rng)
        {
            RngState s = rng.ExportState();
            meta[RngKey] = new JsonObject
            {
                ["words"] = new JsonArray([.. new[] { s.S0, s.S1, s.S2, s.S3 }.Select(w => JsonValue.Create(w.ToString("x16")))]),
                // The spare Gaussian as its exact bit pattern.
                ["gaussian_spare"] = s.GaussianSpare is double d ? BitConverter.DoubleToUInt64Bits(d).ToString("x16") : null,
            }.ToJsonString();
        }
        if (state.Data is { } order)
        {
            DataPosition pos = order.ExportPosition();
            meta[DataKey] = new JsonObject
            {
                ["count"] = order.Count, ["epoch"] = pos.Epoch, ["index"] = pos.Index,
                ["permutation"] = new JsonArray([.. pos.Permutation.Select(i => JsonValue.Create(i))]),
            }.ToJsonString();
        }
        SafeTensors.Write(path, tensors, meta);
    }

    /// <summary>
    /// Loads the checkpoint at <paramref name="path"/> into <paramref name="state"/>'s objects (parameters, frozen
    /// flags, optimiser, Rng, data position) and returns the caller's free-form metadata. Everything is checked before
    /// anything changes: a file of another architecture, with missing, extra or mis-shaped tensors, or unreadable,
    /// throws <see cref="CheckpointException"/>.
    /// </summary>
    public static IReadOnlyDictionary<string, string> Load(string path, TrainingState state)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        CheckState(state);
        string file = Path.GetFileName(path);
        if (!File.Exists(path)) throw new CheckpointException($"The checkpoint '{path}' does not exist.");
        IReadOnlyDictionary<string, string> meta;
        IReadOnlyDictionary<string, WeightTensor> tensors;
        try
        {
            meta = SafeTensors.ReadMetadata(path);
            if (!meta.TryGetValue(FormatKey, out string? format) || format != Format)
                throw new CheckpointException($"'{file}' is not a NeuralStyle training checkpoint (its format is '{format ?? "unspecified"}', expected '{Format}').");
            string architecture = meta.TryGetValue(ArchitectureKey, out string? a) ? a : "";
            if (architecture != state.Architecture)
                throw new CheckpointException($"The checkpoint '{file}' is of the architecture '{architecture}', not '{state.Architecture}'.");
            tensors = SafeTensors.Read(path);
        }
        catch (WeightFormatException e)
        {
            throw new CheckpointException($"The checkpoint '{file}' cannot be read: {e.Message}", e);
        }

        try
        {
            return LoadCore(file, meta, tensors, state);
        }
        catch (Exception e) when (e is ArgumentException or JsonException or FormatException or InvalidOperationException
            or KeyNotFoundException or OverflowException)
        {
            throw new CheckpointException($"The checkpoint '{file}' does not fit: {e.Message}", e);
        }
        catch (NullReferenceException e)
        {
            throw new CheckpointException($"The checkpoint '{file}' has incomplete metadata (a required field is missing).", e);
        }
    }

    private static IReadOnlyDictionary<string, string> LoadCore(string file, IReadOnlyDictionary<string, string> meta,
        IReadOnlyDictionary<string, WeightTensor> tensors, TrainingState state)
    {
        // 1. Parameters: the same names and shapes, nothing extra.
        ParameterSet set = state.Parameters;
        foreach (Parameter p in set)
        {
            if (!tensors.TryGetValue(ParamPrefix + p.Name, out WeightTensor? t))
                throw new CheckpointException($"The checkpoint '{file}' has no tensor for the parameter '{p.Name}'.");
            if (!t.Shape.SequenceEqual(p.Shape))
                throw new CheckpointException($"The checkpoint '{file}' stores '{p.Name}' with shape [{string.Join(",", t.Shape)}], but the network's is [{string.Join(",", p.Shape)}].");
        }
        foreach (string name in tensors.Keys)
        {
            if (name.StartsWith(ParamPrefix, StringComparison.Ordinal) && !set.Contains(name[ParamPrefix.Length..]))
                throw new CheckpointException($"The checkpoint '{file}' has the parameter '{name[ParamPrefix.Length..]}', which the network does not have.");
            if (!name.StartsWith(ParamPrefix, StringComparison.Ordinal) && !name.StartsWith(OptimPrefix, StringComparison.Ordinal))
                throw new CheckpointException($"The checkpoint '{file}' has the unexpected tensor '{name}'.");
        }
        var frozen = JsonNode.Parse(Required(meta, FrozenKey, file))!.AsArray().Select(n => n!.GetValue<string>()).ToHashSet();
        foreach (string name in frozen)
            if (!set.Contains(name)) throw new CheckpointException($"The checkpoint '{file}' freezes '{name}', which the network does not have.");

        // 2. Everything else, parsed and validated before any object changes.
        OptimizerState? optimizerState = null;
        if (state.Optimizer is { } optimizer)
        {
            optimizerState = ParseOptimizer(Required(meta, OptimizerKey, file), tensors);
            if (optimizerState.Kind != OptimizerKind(optimizer))
                throw new CheckpointException($"The checkpoint '{file}' holds {optimizerState.Kind} optimiser state, which cannot be loaded into a {OptimizerKind(optimizer)} optimiser.");
        }
        RngState? rngState = null;
        if (state.Rng is not null)
        {
            JsonObject r = JsonNode.Parse(Required(meta, RngKey, file))!.AsObject();
            ulong[] words = [.. r["words"]!.AsArray().Select(w => ulong.Parse(w!.GetValue<string>(), NumberStyles.HexNumber, CultureInfo.InvariantCulture))];
            if (words.Length != 4) throw new CheckpointException($"The checkpoint '{file}' has an Rng state of {words.Length} words, not 4.");
            string? spare = r["gaussian_spare"]?.GetValue<string>();
            rngState = new RngState(words[0], words[1], words[2], words[3],
                spare is null ? null : BitConverter.UInt64BitsToDouble(ulong.Parse(spare, NumberStyles.HexNumber, CultureInfo.InvariantCulture)));
            _ = new Rng(rngState.Value); // validates
        }
        DataPosition? position = null;
        if (state.Data is { } order)
        {
            JsonObject d = JsonNode.Parse(Required(meta, DataKey, file))!.AsObject();
            int count = d["count"]!.GetValue<int>();
            if (count != order.Count)
                throw new CheckpointException($"The checkpoint '{file}' was trained on {count} samples, but the dataset has {order.Count}.");
            position = new DataPosition(d["epoch"]!.GetValue<long>(), d["index"]!.GetValue<int>(),
                [.. d["permutation"]!.AsArray().Select(n => n!.GetValue<int>())]);
            new ShuffledOrder(order.Count, new Rng(1)).ImportPosition(position); // validates
        }

        // 3. Apply: the optimiser first (its import validates before it changes anything), then the rest.
        if (optimizerState is not null) state.Optimizer!.ImportState(optimizerState);
        foreach (Parameter p in set)
        {
            tensors[ParamPrefix + p.Name].Data.CopyTo(p.Data, 0);
            p.Trainable = !frozen.Contains(p.Name);
        }
        if (rngState is { } rs) state.Rng!.ImportState(rs);
        if (position is not null) state.Data!.ImportPosition(position);
        return meta.Where(e => !ReservedKeys.Contains(e.Key)).ToDictionary(e => e.Key, e => e.Value);
    }

    private static void CheckState(TrainingState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        if (string.IsNullOrEmpty(state.Architecture)) throw new ArgumentException("The training state needs an architecture name.", nameof(state));
        ArgumentNullException.ThrowIfNull(state.Parameters, nameof(state));
        if (state.Optimizer is { } o && !ReferenceEquals(o.Parameters, state.Parameters))
            throw new ArgumentException("The training state's optimiser works on another parameter set than the state's.", nameof(state));
        if (state.Data is { } order && !ReferenceEquals(order.Rng, state.Rng))
            throw new ArgumentException("A training state with a data order needs the Rng that shuffles it as its Rng.", nameof(state));
    }

    private static string Required(IReadOnlyDictionary<string, string> meta, string key, string file) => meta.TryGetValue(key, out string? v)
        ? v : throw new CheckpointException($"The checkpoint '{file}' has no {key} state to load (it was saved without one).");

    private static string OptimizerKind(IOptimizer optimizer) => optimizer switch
    {
        AdamOptimizer => AdamOptimizer.Kind,
        SgdOptimizer => SgdOptimizer.Kind,
        _ => optimizer.ExportState().Kind,
    };

    private static JsonObject OptimizerJson(OptimizerState s)
    {
        var settings = new JsonObject();
        foreach (var (k, v) in s.Settings) settings[k] = v;
        var steps = new JsonObject();
        foreach (var (name, entry) in s.Parameters) steps[name] = entry.Steps;
        var buffers = new JsonObject();
        foreach (var (name, entry) in s.Parameters) buffers[name] = new JsonArray([.. entry.Buffers.Keys.Select(b => JsonValue.Create(b))]);
        return new JsonObject
        {
            ["kind"] = s.Kind,
            ["settings"] = settings,
            ["steps"] = s.Steps,
            ["schedule"] = s.Schedule switch
            {
                ConstantRate => new JsonObject { ["kind"] = "constant" },
                StepDecay sd => new JsonObject { ["kind"] = "step", ["step_size"] = sd.StepSize, ["gamma"] = sd.Gamma },
                _ => throw new ArgumentException($"The learning-rate schedule {s.Schedule.GetType().Name} cannot be saved in a checkpoint."),
            },
            ["parameter_steps"] = steps,
            ["buffers"] = buffers,
        };
    }

    private static OptimizerState ParseOptimizer(string json, IReadOnlyDictionary<string, WeightTensor> tensors)
    {
        JsonObject o = JsonNode.Parse(json)!.AsObject();
        JsonObject schedule = o["schedule"]!.AsObject();
        LearningRateSchedule sched = schedule["kind"]!.GetValue<string>() switch
        {
            "constant" => new ConstantRate(),
            "step" => new StepDecay(schedule["step_size"]!.GetValue<long>(), schedule["gamma"]!.GetValue<double>()),
            string other => throw new ArgumentException($"its learning-rate schedule '{other}' is unknown."),
        };
        var steps = o["parameter_steps"]!.AsObject();
        var buffers = o["buffers"]!.AsObject();
        var parameters = new Dictionary<string, ParameterState>();
        foreach (var (name, stepNode) in steps)
        {
            var data = new Dictionary<string, float[]>();
            foreach (JsonNode? b in buffers[name]!.AsArray())
            {
                string buffer = b!.GetValue<string>();
                data[buffer] = tensors.TryGetValue($"{OptimPrefix}{buffer}.{name}", out WeightTensor? t) ? t.Data
                    : throw new ArgumentException($"the optimiser buffer '{buffer}' of '{name}' is missing.");
            }
            parameters[name] = new ParameterState(stepNode!.GetValue<long>(), data);
        }
        return new OptimizerState
        {
            Kind = o["kind"]!.GetValue<string>(),
            Settings = o["settings"]!.AsObject().ToDictionary(e => e.Key, e => e.Value!.GetValue<double>()),
            Steps = o["steps"]!.GetValue<long>(),
            Schedule = sched,
            Parameters = parameters,
        };
    }
}
