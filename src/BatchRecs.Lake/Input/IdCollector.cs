using BatchRecs.Core.Data;

namespace BatchRecs.Lake.Input;

/// <summary>
/// Interns external ids while reading (one dictionary lookup per row, no per-row strings kept beyond
/// the distinct ones), then hands out the final sorted <see cref="IdMap"/> and the remapping from
/// provisional to final indices.
/// </summary>
internal sealed class IdCollector(string column)
{
    private readonly Dictionary<long, int> _longs = new();
    private readonly Dictionary<string, int> _strings = new(StringComparer.Ordinal);
    private readonly List<long> _longOrder = new();      // provisional index → id, for rollback
    private readonly List<string> _stringOrder = new();
    public IdKind? Kind { get; private set; }

    public void SetKind(IdKind kind, string file)
    {
        if (Kind is null) Kind = kind;
        else if (Kind != kind)
            throw new LakeInputException(
                $"{file}: column '{column}' is {(kind == IdKind.String ? "STRING" : "an integer")} here but {(Kind == IdKind.String ? "STRING" : "an integer")} in earlier files; one id column must have one kind across the input.",
                file, column);
    }

    public int Add(long id)
    {
        if (!_longs.TryGetValue(id, out int i)) { i = _longs.Count; _longs.Add(id, i); _longOrder.Add(id); }
        return i;
    }

    public int Add(string id)
    {
        if (!_strings.TryGetValue(id, out int i)) { i = _strings.Count; _strings.Add(id, i); _stringOrder.Add(id); }
        return i;
    }

    /// <summary>A point to roll back to (the number of ids interned so far) and the kind at that point.</summary>
    public (int Count, IdKind? Kind) Checkpoint() => (Kind == IdKind.String ? _strings.Count : _longs.Count, Kind);

    /// <summary>Forgets every id interned after <paramref name="checkpoint"/> (a skipped bad file's ids).</summary>
    public void Rollback((int Count, IdKind? Kind) checkpoint)
    {
        for (int i = checkpoint.Count; i < _longOrder.Count; i++) _longs.Remove(_longOrder[i]);
        for (int i = checkpoint.Count; i < _stringOrder.Count; i++) _strings.Remove(_stringOrder[i]);
        if (_longOrder.Count > checkpoint.Count) _longOrder.RemoveRange(checkpoint.Count, _longOrder.Count - checkpoint.Count);
        if (_stringOrder.Count > checkpoint.Count) _stringOrder.RemoveRange(checkpoint.Count, _stringOrder.Count - checkpoint.Count);
        Kind = checkpoint.Kind;
    }

    /// <summary>The final map (ids sorted) and remap[provisional] = final index.</summary>
    public (IdMap Map, int[] Remap) Finish()
    {
        if (Kind == IdKind.String)
        {
            var map = IdMap.FromStrings(_strings.Keys);
            var remap = new int[_strings.Count];
            foreach (var (id, p) in _strings) { map.TryGetIndex(id, out int f); remap[p] = f; }
            return (map, remap);
        }
        else
        {
            var map = IdMap.FromInt64(_longs.Keys);
            var remap = new int[_longs.Count];
            foreach (var (id, p) in _longs) { map.TryGetIndex(id, out int f); remap[p] = f; }
            return (map, remap);
        }
    }
}
