namespace BatchRecs.Lake.Input;

/// <summary>Bad input: names the file, the column and the row group/row. Not retried by schedulers.</summary>
public sealed class LakeInputException(string message, string? file = null, string? column = null, Exception? inner = null)
    : Exception(message, inner)
{
    public string? File { get; } = file;
    public string? Column { get; } = column;
}
