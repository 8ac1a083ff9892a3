using BatchRecs.Core.Data;
using Parquet.Schema;

namespace BatchRecs.Lake.Input;

/// <summary>
/// One file's contract columns, checked against the input contract from its footer alone (before any data page is
/// read). Both readers go through this check, so a column type one accepts the other accepts too.
/// </summary>
/// <param name="EpochTime"><c>event_time</c> is an INT64/INT32 epoch (in <c>epoch_unit</c>) rather than a TIMESTAMP.</param>
/// <param name="User">the <c>user_id</c> column.</param>
/// <param name="Item">the <c>item_id</c> column.</param>
/// <param name="Time">the <c>event_time</c> column.</param>
/// <param name="Type">the optional <c>event_type</c> column, or null.</param>
/// <param name="Value">the optional <c>value</c> column, or null.</param>
/// <param name="UserKind">whether user ids are integers or strings.</param>
/// <param name="ItemKind">whether item ids are integers or strings.</param>
internal sealed record InputSchema(DataField User, DataField Item, DataField Time, DataField? Type, DataField? Value,
    IdKind UserKind, IdKind ItemKind, bool EpochTime)
{
    public static InputSchema Check(ParquetSchema schema, string path)
    {
        var user = Require(schema, InteractionReader.UserColumn, path);
        var item = Require(schema, InteractionReader.ItemColumn, path);
        var time = Require(schema, InteractionReader.TimeColumn, path);
        var type = schema.DataFields.FirstOrDefault(f => f.Name == InteractionReader.TypeColumn);
        var value = schema.DataFields.FirstOrDefault(f => f.Name == InteractionReader.ValueColumn);
        var userKind = IdKindOf(user, path);
        var itemKind = IdKindOf(item, path);
        var t = time.ClrType;
        bool epoch = t == typeof(long) || t == typeof(int);
        if (!epoch && t != typeof(DateTime) && t != typeof(DateTimeOffset))
            throw Unsupported(time, path, "event_time must be a TIMESTAMP or an INT64 epoch");
        if (value is not null && !IsNumericValue(value.ClrType))
            throw Unsupported(value, path, "value must be numeric (DOUBLE, FLOAT, INT64 or INT32)");
        if (type is not null && !ColumnReaders.IsString(type.ClrType))
            throw Unsupported(type, path, "event_type must be STRING");
        return new InputSchema(user, item, time, type, value, userKind, itemKind, epoch);
    }

    public static bool IsNumericValue(Type t) => t == typeof(double) || t == typeof(float) || t == typeof(long) || t == typeof(int);

    private static IdKind IdKindOf(DataField f, string path)
    {
        var t = f.ClrType;
        if (t == typeof(long) || t == typeof(int) || t == typeof(short) || t == typeof(uint)) return IdKind.Int64;
        if (ColumnReaders.IsString(t)) return IdKind.String;
        throw Unsupported(f, path, "ids must be INT64, INT32 or STRING");
    }

    private static LakeInputException Unsupported(DataField f, string path, string rule) =>
        new($"{path}: column '{f.Name}' has unsupported type {f.ClrType.Name}; {rule}.", path, f.Name);

    private static DataField Require(ParquetSchema schema, string name, string path) =>
        schema.DataFields.FirstOrDefault(f => f.Name == name)
        ?? throw new LakeInputException($"{path}: required column '{name}' is missing (columns: {string.Join(", ", schema.DataFields.Select(f => f.Name))}).", path, name);
}
