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
    public static bool IsPermanent(Exception e) => Find(e)?.IsPermanent ?? false;

    /// <summary>The exit code a command ends with after <paramref name="e"/>.</summary>
    public static int ExitCode(Exception e) => Find(e)?.ExitCode ?? ExitCodes.Failure;

    /// <summary>
    /// The message that explains <paramref name="e"/>: ours when there is one, else the innermost exception's
    /// (wrappers such as "Background job creation failed" say nothing about the cause).
    /// </summary>
    public static string Describe(Exception e)
    {
        if (Find(e) is { } ours) return ours.Message;
        var inner = e;
        while (inner.InnerException is not null) inner = inner.InnerException;
        return ReferenceEquals(inner, e) ? e.Message : $"{e.Message}: {inner.Message}";
    }
}
