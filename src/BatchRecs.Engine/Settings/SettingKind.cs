namespace BatchRecs.Engine.Settings;

/// <summary>The type of a setting's value, as the job file schema (<c>jobs/job.schema.json</c>) describes it.</summary>
public enum SettingKind
{
    Int,
    Float,
    Choice,
    Bool,
    Text,
    /// <summary>An integer, or the string "auto".</summary>
    IntOrAuto,
}
