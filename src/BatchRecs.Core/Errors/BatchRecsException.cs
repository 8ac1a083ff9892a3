namespace BatchRecs.Core.Errors;

/// <summary>
/// A failure that knows its own class, in the manner of ADO.NET's <c>DbException.IsTransient</c>: whether running
/// the same thing again could succeed (<see cref="IsPermanent"/>) and what the command line exits with
/// (<see cref="ExitCode"/>). The CLI's exit code and the Hangfire retry filter both read these through
/// <see cref="ErrorClass"/>, so the two can never disagree.
/// </summary>
public abstract class BatchRecsException(string message, Exception? inner = null) : Exception(message, inner)
{
    /// <summary>True when a retry would fail the same way: it needs a person (fix the input, the settings or the data).</summary>
    public abstract bool IsPermanent { get; }

    /// <summary>The process exit code of a command that ends with this failure (see <see cref="ExitCodes"/>).</summary>
    public abstract int ExitCode { get; }
}
