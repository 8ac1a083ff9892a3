using BatchRecs.Core.Als;
using BatchRecs.Core.Data;

namespace BatchRecs.Lake.Scratch;

/// <summary>
/// A fit checkpoint in a file (write-then-rename after every iteration). The file carries a fingerprint of the
/// problem and settings, so a checkpoint of another problem — other data, other settings — is never resumed.
/// </summary>
public sealed class FileCheckpoint(string path, ulong fingerprint) : IFitCheckpoint
{
    public string Path { get; } = path;

    public FitState? Load()
    {
        if (!File.Exists(Path)) return null;
        try
        {
            return BinaryArrays.Read(Path, r =>
            {
                if (r.ReadUInt64() != fingerprint) return null;
                int done = r.ReadInt32();
                var x = r.ReadArray<float>();
                var y = r.ReadArray<float>();
                var seconds = r.ReadArray<double>();
                var loss = r.ReadArray<double>();
                var history = seconds.Select((s, i) => new IterationStats(i + 1, s, loss[i])).ToList();
                return new FitState(done, x, y, history);
            });
        }
        catch (Exception e) when (e is IOException or InvalidDataException or EndOfStreamException)
        {
            return null; // a torn or foreign file: start over
        }
    }

    public void Save(FitState state) => BinaryArrays.Write(Path, w =>
    {
        w.Write(fingerprint);
        w.Write(state.CompletedIterations);
        w.WriteArray<float>(state.UserFactors);
        w.WriteArray<float>(state.ItemFactors);
        w.WriteArray<double>(state.History.Select(h => h.Seconds).ToArray());
        w.WriteArray<double>(state.History.Select(h => h.Loss).ToArray());
    }, durable: true);

    public void Delete() => File.Delete(Path);

    /// <summary>A fingerprint of a fit: its settings, the problem's shape and entries, and the warm start.</summary>
    public static ulong Fingerprint(AlsProblem problem, AlsSettings settings, float[]? warmUsers, float[]? warmItems)
    {
        ulong h = 0x9E3779B97F4A7C15UL;
        foreach (char c in settings.ToString()) h = SplitMix64.Mix(h ^ c);
        h = Mix(h, problem.UserItemConf.RowPtr);
        if (problem.Stored is var (strengths, weights))
        {
            // Weighed where the strengths are stored: the coordinator has the strengths (or their store's hash of them)
            // and the weights, not the confidences.
            h = SplitMix64.Mix(h ^ (strengths.HasEntries ? strengths.EntryHash() : strengths.Store!.ContentHash));
            if (weights.Propensity is { } theta) h = MixFloats(h, theta);
        }
        else
        {
            h = Mix(h, problem.UserItemConf.ColIdx);
            h = MixFloats(h, problem.UserItemConf.Values);
            if (problem.UserItemPref is { } p) h = MixFloats(h, p);
        }
        if (warmUsers is not null) h = MixFloats(h, warmUsers);
        if (warmItems is not null) h = MixFloats(h, warmItems);
        return h;
    }

    private static ulong Mix(ulong h, ReadOnlySpan<int> a)
    {
        foreach (int v in a) h = (h ^ (uint)v) * 0x100000001B3UL;
        return SplitMix64.Mix(h ^ (ulong)a.Length);
    }

    private static ulong MixFloats(ulong h, ReadOnlySpan<float> a) => Mix(h, System.Runtime.InteropServices.MemoryMarshal.Cast<float, int>(a));
}
