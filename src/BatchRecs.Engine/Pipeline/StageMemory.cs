using System.Globalization;

namespace BatchRecs.Engine.Pipeline;

/// <summary>
/// Memory between and during pipeline stages.
/// <list type="bullet">
/// <item>A stage's large arrays are garbage once the next stage starts, but the GC paces itself by what survives, so at
/// 100M interactions gigabytes of dead arrays stayed resident into the next stage (measured: 8.4 GB peak in the pairs
/// stage and 9.7 GB in fit_eval, for 3–4 GB of live data). <see cref="Release"/> runs one aggressive (compacting,
/// decommitting) collection when the heap is large: well under a second per stage at that size, nothing on small runs.</item>
/// <item>A stage's peak resident memory is sampled (<see cref="Watch"/>: every 50 ms from <c>/proc/self/statm</c>) rather than
/// read from the kernel's high-water mark, which a process could only reset for everyone who measures it from outside.
/// Elsewhere than Linux there is no figure, and nothing is recorded.</item>
/// </list>
/// </summary>
internal static class StageMemory
{
    /// <summary>Heaps smaller than this are left to the GC's own pacing.</summary>
    private const long CollectAbove = 512L << 20;

    /// <summary>Collects and returns memory to the system when the managed heap is large.</summary>
    public static void Release()
    {
        if (GC.GetGCMemoryInfo().HeapSizeBytes > CollectAbove)
            GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
    }

    /// <summary>Starts sampling the resident memory; null where it cannot be read.</summary>
    public static Sampler? Watch() => ResidentBytes() is { } now ? new Sampler(now) : null;

    /// <summary>The process's resident memory in bytes (Linux), or null.</summary>
    private static long? ResidentBytes()
    {
        if (!OperatingSystem.IsLinux()) return null;
        try
        {
            var fields = File.ReadAllText("/proc/self/statm").Split(' ');
            return long.Parse(fields[1], CultureInfo.InvariantCulture) * Environment.SystemPageSize;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException) { return null; }
    }

    /// <summary>The largest resident memory seen since it started, sampled every 50 ms until disposed.</summary>
    public sealed class Sampler : IDisposable
    {
        private readonly Timer _timer;
        private long _peak;

        internal Sampler(long now)
        {
            _peak = now;
            _timer = new Timer(_ => Sample(), null, 50, 50);
        }

        private void Sample()
        {
            if (ResidentBytes() is { } b)
            {
                long seen;
                do seen = Interlocked.Read(ref _peak);
                while (b > seen && Interlocked.CompareExchange(ref _peak, b, seen) != seen);
            }
        }

        /// <summary>The peak so far, in MiB (taking one last sample).</summary>
        public double PeakMegabytes
        {
            get
            {
                Sample();
                return Interlocked.Read(ref _peak) / (1024.0 * 1024.0);
            }
        }

        public void Dispose() => _timer.Dispose();
    }
}
