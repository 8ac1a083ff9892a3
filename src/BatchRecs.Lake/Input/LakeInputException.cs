using BatchRecs.Core.Errors;

namespace BatchRecs.Lake.Input;

/// <summary>Bad input: names the file, the column and the row group/row. Not retried by schedulers; exit code 2.</summary>
public sealed class LakeInputException(string message, string? file = null, string? column = null, Exception? inner = null)
    : BadInputException(message, inner)
{
    /// <summary>The file (or partition directory) at fault.</summary>
    public string? File { get; } = file;

    /// <summary>The column at fault, when one is.</summary>
    public string? Column { get; } = column;
}
