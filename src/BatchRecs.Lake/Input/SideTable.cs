using BatchRecs.Lake.Storage;
using System.Globalization;
using BatchRecs.Core.Data;
using Parquet;
using Parquet.Schema;

namespace BatchRecs.Lake.Input;

/// <summary>
/// A small Parquet input beside the interaction log (<c>users_input</c>, <c>exclude_input</c>, <c>items_input</c>): one
/// file, or every <c>*.parquet</c> file under a directory (names starting with '.' or '_' skipped), read whole and
/// column by column. Values keep where they came from, so every error names the setting, file, column, row group and row.
/// </summary>
public sealed class SideTable
{
    private readonly List<Chunk> _chunks;

    private SideTable(string setting, string path, IReadOnlyList<string> columns, List<Chunk> chunks)
    {
        Setting = setting;
        Path = path;
        Columns = columns;
        _chunks = chunks;
        Rows = chunks.Sum(c => c.Rows);
    }

    /// <summary>The setting that named this input (for messages).</summary>
    public string Setting { get; }

    /// <summary>The file or directory read.</summary>
    public string Path { get; }

    /// <summary>The columns every file has, in the first file's order.</summary>
    public IReadOnlyList<string> Columns { get; }

    public int Rows { get; }

    public bool Has(string column) => Columns.Contains(column, StringComparer.Ordinal);

    /// <summary>One row group's columns, by name, as read.</summary>
    private sealed record Chunk(string File, int RowGroup, int Rows, Dictionary<string, Array> Data);

    /// <summary>Reads every file of <paramref name="path"/> (a Parquet file or a directory of them, local or <c>az://</c>).</summary>
    /// <param name="setting">the setting that named the input, for messages.</param>
    /// <param name="path">the file or directory, or an object or folder of an object store.</param>
    /// <param name="ct">cancels the read.</param>
    public static async Task<SideTable> ReadAsync(string setting, string path, CancellationToken ct = default)
    {
        var files = await FilesAsync(setting, path, ct);
        if (files.Count == 0) throw new LakeInputException($"{setting} '{path}' holds no .parquet files.", path);
        var chunks = new List<Chunk>();
        List<string>? columns = null;
        foreach (var file in files)
        {
            ParquetReader reader;
            try { reader = await InteractionReader.OpenParquetAsync(file, ct); }
            catch (LakeInputException e)
            {
                throw new LakeInputException($"{setting}: {e.Message}", file, null, e);
            }
            await using (reader)
            {
                var fields = reader.Schema.DataFields;
                var names = fields.Select(f => f.Name).ToList();
                columns = columns is null ? names : columns.Intersect(names, StringComparer.Ordinal).ToList();
                for (int g = 0; g < reader.RowGroupCount; g++)
                {
                    using var rg = reader.OpenRowGroupReader(g);
                    var data = new Dictionary<string, Array>(StringComparer.Ordinal);
                    foreach (var f in fields)
                    {
                        if (!IsSupported(f.ClrType)) continue;
                        try { data[f.Name] = await ReadColumnAsync(rg, f, checked((int)rg.RowCount), ct); }
                        catch (Exception e) when (e is not OperationCanceledException)
                        {
                            throw new LakeInputException($"{setting}: {file}: column '{f.Name}', row group {g} could not be decoded ({e.Message}).", file, f.Name, e);
                        }
                    }
                    chunks.Add(new Chunk(file, g, checked((int)rg.RowCount), data));
                }
            }
        }
        return new SideTable(setting, path, columns!, chunks);
    }

    /// <summary>The file the location names, or the Parquet files under it as a folder (hidden names left out), as their store shows them.</summary>
    private static async Task<List<string>> FilesAsync(string setting, string path, CancellationToken ct)
    {
        var (store, name) = Storage.LakeLocation.Object(path);
        var under = await store.ListAllAsync(name.Length == 0 ? "" : name + "/", ct);
        var files = under.Where(o => o.Name.EndsWith(".parquet", StringComparison.Ordinal) && !o.Name[(name.Length == 0 ? 0 : name.Length + 1)..].Split('/').Any(Hidden))
            .Select(o => store.Describe(o.Name)).Order(StringComparer.Ordinal).ToList();
        // A folder with files but no Parquet among them: the caller says so. Otherwise the location may be one file, whatever its name.
        if (files.Count > 0 || under.Count > 0) return files;
        return await store.FindAsync(name, ct) is not null ? [store.Describe(name)]
            : throw new LakeInputException($"{setting} '{path}' does not exist (or is an empty folder).", path);
    }

    private static bool Hidden(string segment) => segment.StartsWith('.') || segment.StartsWith('_');

    private static readonly Type[] Supported = [typeof(bool), typeof(long), typeof(int), typeof(short), typeof(uint), typeof(double), typeof(float), typeof(decimal)];

    /// <summary>Types read (other columns, e.g. timestamps or lists, are left unread: no side input needs them).</summary>
    private static bool IsSupported(Type t) => ColumnReaders.IsString(t) || Supported.Contains(t);

    /// <summary>One column of a row group as an array of its CLR type (nullable when the column is optional).</summary>
    private static async Task<Array> ReadColumnAsync(ParquetRowGroupReader rg, DataField f, int n, CancellationToken ct)
    {
        var t = f.ClrType;
        if (ColumnReaders.IsString(t))
        {
            var s = new string?[n];
            await rg.ReadAsync(f, s.AsMemory(), null, ct);
            return s;
        }
        if (t == typeof(bool)) return await Read<bool>();
        // IsSupported lists the same types.
        if (t == typeof(long)) return await Read<long>();
        if (t == typeof(int)) return await Read<int>();
        if (t == typeof(short)) return await Read<short>();
        if (t == typeof(uint)) return await Read<uint>();
        if (t == typeof(double)) return await Read<double>();
        if (t == typeof(float)) return await Read<float>();
        if (t == typeof(decimal)) return await Read<decimal>();
        throw new InvalidOperationException($"column '{f.Name}': type {t.Name} is not read.");

        async Task<Array> Read<T>() where T : struct
        {
            if (!f.IsNullable)
            {
                var a = new T[n];
                await rg.ReadAsync(f, a.AsMemory(), null, ct);
                return a;
            }
            var o = new T?[n];
            await rg.ReadAsync(f, o.AsMemory(), null, ct);
            return o;
        }
    }

    private LakeInputException Error(Chunk c, string column, int row, string what) =>
        new($"{Setting}: {c.File}: column '{column}', row group {c.RowGroup}, row {row}: {what}.", c.File, column);

    /// <summary>Every row's value of <paramref name="column"/>, with where it is, in file and row order.</summary>
    private IEnumerable<(object? Value, Chunk Chunk, int Row)> Values(string column)
    {
        if (!Has(column))
            throw new LakeInputException($"{Setting} '{Path}': required column '{column}' is missing (columns: {string.Join(", ", Columns)}).", Path, column);
        foreach (var c in _chunks)
        {
            if (!c.Data.TryGetValue(column, out var a))
                throw new LakeInputException($"{Setting}: {c.File}: column '{column}' has a type this input does not take (use STRING, INT64, INT32, DOUBLE, FLOAT, DECIMAL or BOOLEAN).", c.File, column);
            for (int r = 0; r < c.Rows; r++) yield return (a.GetValue(r), c, r);
        }
    }

    /// <summary>An id column (INT64, INT32 or STRING) as the kind <paramref name="kind"/> of the interaction log's ids.</summary>
    /// <param name="column">the column.</param>
    /// <param name="kind">the interaction log's id kind.</param>
    /// <param name="allowNull">nulls are kept (<see cref="IdColumn.IsNull"/>) instead of refused.</param>
    public IdColumn Ids(string column, IdKind kind, bool allowNull = false)
    {
        var longs = kind == IdKind.Int64 ? new long[Rows] : null;
        var strings = kind == IdKind.String ? new string[Rows] : null;
        var nulls = allowNull ? new bool[Rows] : null;
        int i = 0;
        foreach (var (v, c, r) in Values(column))
        {
            switch (v)
            {
                case null when nulls is not null: nulls[i] = true; if (strings is not null) strings[i] = ""; break;
                case null: throw Error(c, column, r, "null id");
                case string or ReadOnlyMemory<char> when strings is not null: strings[i] = v.ToString()!; break;
                case long or int or short or uint when longs is not null: longs[i] = Convert.ToInt64(v, CultureInfo.InvariantCulture); break;
                default:
                    throw Error(c, column, r, $"id of type {v.GetType().Name} where the interaction log's ids are {(kind == IdKind.Int64 ? "integers" : "strings")}");
            }
            i++;
        }
        return new IdColumn(kind, longs, strings, nulls);
    }

    /// <summary>A BOOLEAN column; a null is an error (say true or false).</summary>
    public bool[] Bools(string column)
    {
        var result = new bool[Rows];
        int i = 0;
        foreach (var (v, c, r) in Values(column))
            result[i++] = v switch
            {
                bool b => b,
                null => throw Error(c, column, r, "null; write true or false"),
                _ => throw Error(c, column, r, $"{v.GetType().Name} value where a BOOLEAN is expected"),
            };
        return result;
    }

    /// <summary>
    /// A numeric column (any integer or floating type; BOOLEAN as 1 and 0). A null, NaN or infinity is an error, and so is
    /// a value <paramref name="check"/> refuses (it returns why, or null for a good value).
    /// </summary>
    public double[] Numbers(string column, Func<double, string?>? check = null)
    {
        var result = new double[Rows];
        int i = 0;
        foreach (var (v, c, r) in Values(column))
        {
            double x = v switch
            {
                bool b => b ? 1 : 0,
                long or int or short or uint or double or float or decimal => Convert.ToDouble(v, CultureInfo.InvariantCulture),
                null => throw Error(c, column, r, "null; a number is needed"),
                _ => throw Error(c, column, r, $"{v.GetType().Name} value where a number is expected"),
            };
            if (!double.IsFinite(x)) throw Error(c, column, r, $"{x} is not a finite number");
            if (check?.Invoke(x) is { } why) throw Error(c, column, r, why);
            result[i++] = x;
        }
        return result;
    }

    /// <summary>A column as text, each value (null included) passed to <paramref name="check"/>, which returns why it is bad or null.</summary>
    public string?[] Texts(string column, Func<string?, string?> check)
    {
        var result = new string?[Rows];
        int i = 0;
        foreach (var (v, c, r) in Values(column))
        {
            string? text = v is null ? null : Convert.ToString(v, CultureInfo.InvariantCulture);
            if (check(text) is { } why) throw Error(c, column, r, why);
            result[i++] = text;
        }
        return result;
    }

    /// <summary>Any scalar column as text (numbers in invariant form); nulls stay null.</summary>
    public string?[] Texts(string column) => Texts(column, _ => null);

    /// <summary>Looks up each id of an id column in <paramref name="map"/>: the dense index, or −1 for an id the map does not hold.</summary>
    public static int[] IndicesOf(IdColumn ids, IdMap map)
    {
        var result = new int[ids.Count];
        for (int r = 0; r < result.Length; r++)
            result[r] = ids.IsNull?[r] != true && (ids.Kind == IdKind.Int64 ? map.TryGetIndex(ids.Longs![r], out int i) : map.TryGetIndex(ids.Strings![r], out i)) ? i : -1;
        return result;
    }
}

/// <summary>An id column of a <see cref="SideTable"/>: INT64 or STRING ids, one per row; <paramref name="IsNull"/> marks nulls where they were allowed.</summary>
public sealed record IdColumn(IdKind Kind, long[]? Longs, string[]? Strings, bool[]? IsNull = null)
{
    /// <summary>The ids as a map (nulls left out).</summary>
    public IdMap ToMap() => Kind == IdKind.Int64
        ? IdMap.FromInt64(Longs!.Where((_, r) => IsNull?[r] != true))
        : IdMap.FromStrings(Strings!.Where((_, r) => IsNull?[r] != true));

    public int Count => Longs?.Length ?? Strings!.Length;
}
