namespace BatchRecs.Lake.Output;

/// <summary>
/// The named points where an <see cref="IFaultInjector"/> is called: the publish steps below, and
/// <see cref="Iteration"/> after each iteration of a run's fits.
/// </summary>
public static class FaultPoint
{
    /// <summary>The publish steps, in order.</summary>
    public static readonly string[] PublishSteps =
        ["parts-written", "success-written", "manifest-written", "database-staged", "journal-written", "partition-swapped", "similar-swapped",
            "database-committed", "retention-applied"];

    /// <summary>Steps of a publish to a lake on object storage (<see cref="RemoteLake"/>), in order, besides <see cref="PublishSteps"/>.</summary>
    public const string RemotePartsUploaded = "remote-parts-uploaded", RemoteCommitted = "remote-committed", RemoteCatalogUploaded = "remote-catalog-uploaded";

    /// <summary>The point after iteration <paramref name="iteration"/> of a run's fit <paramref name="stage"/> (e.g. <c>fit_eval-iteration-2</c>).</summary>
    public static string Iteration(string stage, int iteration) => $"{stage}-iteration-{iteration}";
}
