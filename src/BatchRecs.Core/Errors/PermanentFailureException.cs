namespace BatchRecs.Core.Errors;

/// <summary>
/// A failure that a retry would repeat but that is not the caller's input: e.g. the index missing its recall floor
/// on this night's factors (a deterministic function of the input and settings). Not retried; exits
/// <see cref="ExitCodes.Failure"/>.
/// </summary>
public class PermanentFailureException(string message, Exception? inner = null) : BatchRecsException(message, inner)
{
    /// <inheritdoc />
    public override bool IsPermanent => true;

    /// <inheritdoc />
    public override int ExitCode => ExitCodes.Failure;
}
