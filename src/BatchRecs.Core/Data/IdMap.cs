namespace BatchRecs.Core.Data;

/// <summary>The physical type of an external id column.</summary>
public enum IdKind { Int64, String }

/// <summary>
/// A bijection between external ids (INT64 or STRING, as they appear in the lake) and dense
/// indices 0..Count-1 used by every algorithm. Indices follow the sorted order of the external
/// ids, so the same set of ids always gets the same indices whatever order the files were read
/// in; that is what makes factors reproducible across runs and executors. <see cref="WithAppended"/> keeps a map's
/// indices and numbers new ids after them (in sorted order).
/// </summary>
/// <remarks>Immutable after construction; safe to share between threads.</remarks>
public sealed class IdMap
{
    private readonly long[]? _longIds;
    private readonly string[]? _stringIds;
    private readonly Dictionary<long, int>? _longIndex;
    private readonly Dictionary<string, int>? _stringIndex;

    private IdMap(long[] ids)
    {
        Kind = IdKind.Int64;
        _longIds = ids;
        _longIndex = new Dictionary<long, int>(ids.Length);
        for (int i = 0; i < ids.Length; i++) _longIndex.Add(ids[i], i);
    }

    private IdMap(string[] ids)
    {
        Kind = IdKind.String;
        _stringIds = ids;
        _stringIndex = new Dictionary<string, int>(ids.Length, StringComparer.Ordinal);
        for (int i = 0; i < ids.Length; i++) _stringIndex.Add(ids[i], i);
    }

    public IdKind Kind { get; }

    public int Count => Kind == IdKind.Int64 ? _longIds!.Length : _stringIds!.Length;

    /// <summary>Builds a map from any (unsorted, possibly repeated) sequence of INT64 ids.</summary>
    public static IdMap FromInt64(IEnumerable<long> ids)
    {
        var distinct = ids.Distinct().ToArray();
        Array.Sort(distinct);
        return new IdMap(distinct);
    }

    /// <summary>Builds a map from any (unsorted, possibly repeated) sequence of STRING ids (ordinal order).</summary>
    public static IdMap FromStrings(IEnumerable<string> ids)
    {
        var distinct = ids.Distinct(StringComparer.Ordinal).ToArray();
        Array.Sort(distinct, StringComparer.Ordinal);
        return new IdMap(distinct);
    }

    /// <summary>
    /// This map's ids at their indices, then the ids of <paramref name="extra"/> (same kind) that it does not hold, in
    /// sorted order: e.g. the users a run lists, the model's users first.
    /// </summary>
    public IdMap WithAppended(IdMap extra)
    {
        if (extra.Kind != Kind) throw new ArgumentException($"cannot append {extra.Kind} ids to a map of {Kind} ids.", nameof(extra));
        if (Kind == IdKind.Int64)
        {
            var added = new List<long>();
            foreach (long id in extra.Int64Ids) if (!_longIndex!.ContainsKey(id)) added.Add(id);
            return added.Count == 0 ? this : new IdMap([.. _longIds!, .. added]);
        }
        var more = new List<string>();
        foreach (string id in extra.StringIds) if (!_stringIndex!.ContainsKey(id)) more.Add(id);
        return more.Count == 0 ? this : new IdMap([.. _stringIds!, .. more]);
    }

    /// <summary>
    /// The union of maps of one kind (empty maps of any kind are ignored) and, per map, its index → the union's: increasing,
    /// as both are sorted; null for a map that is the union itself. Read tasks intern their own files' ids; this gives the
    /// run's ids, the same whatever way the files were split.
    /// </summary>
    public static (IdMap Map, int[]?[] Remaps) Union(IReadOnlyList<IdMap> maps)
    {
        var filled = maps.Where(m => m.Count > 0).ToList();
        var kind = filled.Count > 0 ? filled[0].Kind : maps.Count > 0 ? maps[0].Kind : IdKind.Int64;
        if (filled.Any(m => m.Kind != kind)) throw new ArgumentException("the maps hold ids of different kinds.", nameof(maps));
        var union = kind == IdKind.Int64
            ? FromInt64(filled.SelectMany(m => m._longIds!))
            : FromStrings(filled.SelectMany(m => m._stringIds!));
        var remaps = new int[]?[maps.Count];
        for (int p = 0; p < maps.Count; p++)
        {
            var m = maps[p];
            if (m.Count == union.Count && m.Count > 0 && m.Kind == union.Kind) continue; // the same sorted set: identity
            var remap = new int[m.Count];
            for (int i = 0; i < remap.Length; i++)
                if (!(m.Kind == IdKind.Int64 ? union.TryGetIndex(m._longIds![i], out remap[i]) : union.TryGetIndex(m._stringIds![i], out remap[i])))
                    throw new InvalidOperationException("an id missing from the union.");
            remaps[p] = remap;
        }
        return (union, remaps);
    }

    public long Int64At(int index) => Kind == IdKind.Int64
        ? _longIds![index]
        : throw new InvalidOperationException("This id map holds STRING ids.");

    public string StringAt(int index) => Kind == IdKind.String
        ? _stringIds![index]
        : throw new InvalidOperationException("This id map holds INT64 ids.");

    /// <summary>The external id at a dense index, boxed as long or string.</summary>
    public object ExternalAt(int index) => Kind == IdKind.Int64 ? _longIds![index] : _stringIds![index];

    public bool TryGetIndex(long id, out int index)
    {
        if (_longIndex is null) { index = -1; return false; }
        return _longIndex.TryGetValue(id, out index);
    }

    public bool TryGetIndex(string id, out int index)
    {
        if (_stringIndex is null) { index = -1; return false; }
        return _stringIndex.TryGetValue(id, out index);
    }

    /// <summary>All external ids in index order (INT64 maps only).</summary>
    public ReadOnlySpan<long> Int64Ids => _longIds ?? throw new InvalidOperationException("This id map holds STRING ids.");

    /// <summary>All external ids in index order (STRING maps only).</summary>
    public ReadOnlySpan<string> StringIds => _stringIds ?? throw new InvalidOperationException("This id map holds INT64 ids.");
}
