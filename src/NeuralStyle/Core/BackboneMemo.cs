
namespace NeuralStyle.Core;

/// <summary>
/// The most recently loaded <see cref="Backbone"/>, kept for the next load of the same model, weights and flavour:
/// a server running job after job would otherwise read and pack the same few hundred megabytes for every job and
/// hold several copies until the collector catches up. The loader makes the key from everything a load depends on
/// (a weights file by its path, length and time of last write, so a file replaced in between is loaded afresh).
/// Thread-safe; backbones are read-only in use.
/// </summary>
public sealed class BackboneMemo
{
    private readonly Lock _gate = new();
    private (string Key, Backbone Backbone)? _last;

    /// <summary>The backbone for <paramref name="key"/>: the remembered one, or <paramref name="load"/>'s, which is
    /// remembered in its place unless <paramref name="keep"/> says otherwise (a fallback is not kept, so a later
    /// job tries the download again).</summary>
    public Backbone GetOrLoad(string key, Func<Backbone> load, Func<bool> keep)
    {
        lock (_gate)
        {
            if (_last is { } last && last.Key == key) return last.Backbone;
            _last = null; // let the previous one go before the next is built, never holding both
        }
        Backbone loaded = load();
        if (keep())
            lock (_gate) _last = (key, loaded);
        return loaded;
    }
}
