namespace BatchRecs.Core.Errors;

/// <summary>
/// Reads the class of any exception: the first <see cref="BatchRecsException"/> on its chain of inner exceptions
/// (a Hangfire or task wrapper around ours keeps our class) decides. Anything else is treated as transient and as a
/// plain failure (exit 1): an I/O error or a lost connection may pass, and a bug in our code must not be reported as
/// the user's bad input.
/// </summary>
public static class ErrorClass
{
    /// <summary>Our exception on <paramref name="e"/>'s chain (including the inner exceptions of an <see cref="AggregateException"/>), or null.</summary>
    public static BatchRecsException? Find(Exception? e)
    {
        for (; e is not null; e = e.InnerException)
        {
            if (e is BatchRecsException ours) return ours;
            if (e is AggregateException agg)
                foreach (var inner in agg.InnerExceptions)
                    if (Find(inner) is { } found) return found;
        }
        return null;
    }

    /// <summary>True when a retry would fail the same way.</summary>
    public static bool IsPermanent(Exception e) => Find(e)?.IsPermanent ?? IsRefusedCredential(e);

    /// <summary>The exit code a command ends with after <paramref name="e"/>.</summary>
    public static int ExitCode(Exception e) => Find(e)?.ExitCode ?? (IsRefusedCredential(e) ? ExitCodes.BadInput : ExitCodes.Failure);

    /// <summary>
    /// A database refused the credentials (SQLSTATE class 28, "invalid authorization specification", e.g. a wrong
    /// PostgreSQL password): a setting to fix, not a hiccup to retry.
    /// </summary>
    private static bool IsRefusedCredential(Exception? e)
    {
        for (; e is not null; e = e.InnerException)
            if (e is System.Data.Common.DbException { SqlState: { } state } && state.StartsWith("28", StringComparison.Ordinal)) return true;
        return false;
    }

    /// <summary>
    /// The message that explains <paramref name="e"/>: ours when there is one, else the innermost exception's
    /// (wrappers such as "Background job creation failed" say nothing about the cause).
    /// </summary>
    public static string Describe(Exception e)
    {
        if (Find(e) is { } ours) return ours.Message;
        if (IsRefusedCredential(e)) return Innermost(e).Message + " (check the connection string's user and PGPASSWORD)";
        var inner = Innermost(e);
        return ReferenceEquals(inner, e) ? e.Message : $"{e.Message}: {inner.Message}";
    }

    private static Exception Innermost(Exception e)
    {
        while (e.InnerException is not null) e = e.InnerException;
        return e;
    }
}
