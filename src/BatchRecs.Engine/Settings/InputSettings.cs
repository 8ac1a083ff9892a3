using BatchRecs.Core.Data;

namespace BatchRecs.Engine.Settings;

/// <summary>Which reader reads the input (<c>reader</c>).</summary>
public enum ReaderKind
{
    /// <summary>Parquet.Net row groups.</summary>
    ParquetNet,
    /// <summary>DuckDB read_parquet (falls back to Parquet.Net to diagnose bad input).</summary>
    DuckDb,
}

/// <summary>The unit of an INT64 <c>event_time</c> (<c>epoch_unit</c>).</summary>
public enum EpochUnit
{
    Seconds,
    Milliseconds,
    Microseconds,
    Nanoseconds,
}

/// <summary>What the input is and how its events become pairs.</summary>
/// <param name="LookbackDays"><c>lookback_days</c>: days of input before the run date.</param>
/// <param name="Combine"><c>combine</c>: how repeated events of a pair combine.</param>
/// <param name="HalfLifeDays"><c>half_life_days</c>: time decay half-life (0 = off).</param>
/// <param name="EpochUnit"><c>epoch_unit</c>.</param>
/// <param name="Reader"><c>reader</c>.</param>
/// <param name="SkipBadFiles"><c>skip_bad_files</c>.</param>
/// <param name="ItemsInput"><c>items_input</c>: a Parquet file of item metadata, or null (unset).</param>
/// <param name="ExposureInput"><c>exposure_input</c>: a directory of exposure logs, or null (unset).</param>
/// <param name="UsersInput"><c>users_input</c>: Parquet of the users to list (user_id, optional segment columns), or null (unset).</param>
/// <param name="ExcludeInput"><c>exclude_input</c>: Parquet of banned items or per-user exclusions, or null (unset).</param>
public sealed record InputSettings(
    int LookbackDays,
    CombineRule Combine,
    double HalfLifeDays,
    EpochUnit EpochUnit,
    ReaderKind Reader,
    bool SkipBadFiles,
    string? ItemsInput,
    string? ExposureInput,
    string? UsersInput,
    string? ExcludeInput)
{
    /// <summary>The unit as the readers and error messages spell it (s, ms, us, ns).</summary>
    public string EpochUnitSymbol => EpochUnit switch
    {
        EpochUnit.Milliseconds => "ms",
        EpochUnit.Microseconds => "us",
        EpochUnit.Nanoseconds => "ns",
        _ => "s",
    };
}
