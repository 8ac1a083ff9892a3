namespace BatchRecs.Core.Errors;

/// <summary>The exit codes of every <c>batchrecs</c> command (README, "Exit codes").</summary>
public static class ExitCodes
{
    /// <summary>Done.</summary>
    public const int Success = 0;

    /// <summary>Any other failure: I/O, a lost connection, a timeout, a bug. Schedulers retry these.</summary>
    public const int Failure = 1;

    /// <summary>Bad input, settings or usage: the message names the file, column and row, or the setting.</summary>
    public const int BadInput = 2;

    /// <summary>The run was rejected by the quality gate and published nothing.</summary>
    public const int Rejected = 3;
}
