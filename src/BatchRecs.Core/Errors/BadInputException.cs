namespace BatchRecs.Core.Errors;

/// <summary>
/// Bad input, settings or usage: running again without a change fails again, so it is never retried and exits
/// <see cref="ExitCodes.BadInput"/>. The message says what is wrong, where (file, column, row, setting, option) and
/// what to do.
/// </summary>
public class BadInputException(string message, Exception? inner = null) : BatchRecsException(message, inner)
{
    /// <inheritdoc />
    public override bool IsPermanent => true;

    /// <inheritdoc />
    public override int ExitCode => ExitCodes.BadInput;
}
