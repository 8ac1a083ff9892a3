using BatchRecs.Core.Errors;
using BatchRecs.Lake.Output;

namespace BatchRecs.Lake.Tests;

/// <summary>A publish that waits for another publisher says so at once, and gives up at its deadline with a transient failure.</summary>
public class PublishLockTests
{
    [Fact]
    public async Task A_wait_for_the_publish_lock_is_reported_at_once_and_ends_at_the_deadline()
    {
        using var dir = new TempDirectory("batchrecs-lock");
        using var held = await PublishLock.AcquireAsync(dir.Path, TimeSpan.FromSeconds(1));
        var said = new List<string>();
        var started = DateTime.UtcNow;
        var e = await Assert.ThrowsAsync<TransientFailureException>(() => PublishLock.AcquireAsync(dir.Path, TimeSpan.FromSeconds(1.5), default, said.Add));
        Assert.InRange((DateTime.UtcNow - started).TotalSeconds, 1.4, 10);
        Assert.Single(said); // once at the start; the next report would come after 30 s
        Assert.Contains("waiting for the publish lock", said[0]);
        Assert.Contains("lock_timeout_seconds", said[0]);
        Assert.Contains("lock_timeout_seconds", e.Message);

        held.Dispose();
        using var next = await PublishLock.AcquireAsync(dir.Path, TimeSpan.FromSeconds(1), default, said.Add);
        Assert.Single(said); // free at once: nothing to report
    }
}
