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
    private readonly List<long> _longOrder = new();      // provisional index → id, in the order met
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

    /// <summary>
    /// Interns every id of <paramref name="part"/> (one file's collector) here, in the part's order, after checking that
    /// its kind matches the earlier files'; returns part index → index here.
    /// </summary>
    /// <param name="part">a file's own collector.</param>
    /// <param name="file">the file, named when its kind differs.</param>
    public int[] Intern(IdCollector part, string file)
    {
        if (part.Kind is { } kind) SetKind(kind, file);
        var map = new int[part.Kind == IdKind.String ? part._stringOrder.Count : part._longOrder.Count];
        for (int p = 0; p < map.Length; p++) map[p] = part.Kind == IdKind.String ? Add(part._stringOrder[p]) : Add(part._longOrder[p]);
        return map;
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
