namespace BatchRecs.Core.Errors;

/// <summary>
/// A failure that may pass on its own (a lock held by another run, a worker that went away, storage that did not
/// answer): retried by the scheduler, exits <see cref="ExitCodes.Failure"/>.
/// </summary>
public class TransientFailureException(string message, Exception? inner = null) : BatchRecsException(message, inner)
{
    /// <inheritdoc />
    public override bool IsPermanent => false;

    /// <inheritdoc />
    public override int ExitCode => ExitCodes.Failure;
}
