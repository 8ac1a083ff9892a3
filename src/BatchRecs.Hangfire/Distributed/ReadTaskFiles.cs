using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using BatchRecs.Core.Data;
using BatchRecs.Core.Evaluation;
using BatchRecs.Lake.Input;
using BatchRecs.Lake.Scratch;

namespace BatchRecs.Hangfire.Distributed;

/// <summary>
/// The scratch area of a distributed read and pairs stage, beside the half-steps' (<see cref="BlockTaskFiles"/>):
/// <code>
/// read-NNNNN/input.bin        the read plan (JSON)
/// read-NNNNN/block-TTTTT.bin  read task T's outcome: what it found, its own id maps, its events grouped by its users
/// read-NNNNN/remaps.bin       each task's user and item index → the run's (the coordinator's merge), the combine rule, the split, the item count
/// read-NNNNN-pairs/train-SSSSS.bin, train-SSSSS.t.bin  shard task S's training rows: its users × items, and transposed
/// read-NNNNN-pairs/held-SSSSS.bin, held-SSSSS.t.bin    its held-out rows, the same two ways (with a hold-out)
/// read-NNNNN-pairs/block-SSSSS.bin  written last: its first user, pair counts, kept times and cuts
/// </code>
/// The read's folder goes once the shards are combined; the shards' folder stays until the executor is disposed: the
/// fits' block tasks read their rows of the pairs there (<see cref="ShardSides"/>).
/// A read task's events are written grouped by its own users (stable: in read order within a user), with each user's
/// offset, so a shard task reads just its users' events from every task's file (ranged reads on object storage).
/// </summary>
public static class ReadTaskFiles
{
    public static string RemapsPath(string stepDir) => Path.Combine(stepDir, "remaps.bin");

    /// <summary>
    /// The shard tasks' folder, beside the read's (<c>read-NNNNN-pairs</c>): the read's events go once the shards are
    /// combined; the shards' rows stay, the fits' block tasks read them (<see cref="ShardSides"/>).
    /// </summary>
    public static string ShardDir(string stepDir) => stepDir + "-pairs";

    public static long WritePlan(string stepDir, ReadPlan plan)
    {
        string path = BlockTaskFiles.StepInputPath(stepDir);
        BinaryArrays.Write(path, w => w.Write(plan.ToJson()));
        return ScratchArea.Length(path);
    }

    public static ReadPlan ReadPlan(string stepDir) => BinaryArrays.Read(BlockTaskFiles.StepInputPath(stepDir), r => Lake.Input.ReadPlan.FromJson(r.ReadString()));

    /// <summary>What a read task found (its events are in the arrays after it).</summary>
    private sealed record Found(List<InputFileInfo> Files, long RowsRead, long RowsInWindow, List<SkippedFile> Skipped, TimeRange? Timestamps, TimeRange? Epochs,
        IdKind? UserKind, IdKind? ItemKind, string? KindFile, string? Error, string? ErrorFile, string? ErrorColumn);

    /// <summary>A read task's outcome: its events grouped by its users, or the bad input it met.</summary>
    public static void WritePart(string stepDir, int task, ReadResult read)
    {
        var events = read.Events;
        int users = events.UserCount;
        var offsets = new long[users + 1];
        for (int c = 0; c < events.Chunks; c++)
            foreach (int u in events.ChunkAt(c).Users.Span) offsets[u + 1]++;
        for (int u = 0; u < users; u++) offsets[u + 1] += offsets[u];
        var next = offsets[..^1];
        var items = new int[events.Count]; var values = new float[events.Count]; var times = new long[events.Count];
        for (int c = 0; c < events.Chunks; c++)
        {
            var chunk = events.ChunkAt(c);
            var us = chunk.Users.Span; var its = chunk.Items.Span; var vs = chunk.Values.Span; var ts = chunk.Times.Span;
            for (int e = 0; e < us.Length; e++)
            {
                long p = next[us[e]]++;
                items[p] = its[e]; values[p] = vs[e]; times[p] = ts[e];
            }
        }
        var found = new Found(read.Files.ToList(), read.RowsRead, read.RowsInWindow, read.Skipped.ToList(), read.Times?.Timestamps, read.Times?.Epochs,
            read.IdKinds.Users, read.IdKinds.Items, read.IdKinds.File, null, null, null);
        BinaryArrays.Write(BlockTaskFiles.BlockOutput(stepDir, task), w =>
        {
            w.Write(JsonSerializer.Serialize(found));
            WriteIds(w, events.UserIds);
            WriteIds(w, events.ItemIds);
            w.WriteArray<long>(offsets);
            w.WriteArray<int>(items);
            w.WriteArray<float>(values);
            w.WriteArray<long>(times);
        });
    }

    /// <summary>A read task that met bad input: the coordinator fails the run with it (the first in read order).</summary>
    public static void WriteFailure(string stepDir, int task, LakeInputException e) =>
        BinaryArrays.Write(BlockTaskFiles.BlockOutput(stepDir, task), w =>
            w.Write(JsonSerializer.Serialize(new Found([], 0, 0, [], null, null, null, null, null, e.Message, e.File, e.Column))));

    /// <summary>What the coordinator keeps of a read task: what it found, its id maps and its events per user (not the events).</summary>
    public sealed record PartSummary(ReadStats Stats, IdMap Users, IdMap Items, long[] Offsets, LakeInputException? Failure);

    /// <summary>What the shard tasks' planning needs of a read task: its users' event offsets and its id counts.</summary>
    public sealed record PartLayout(long[] Offsets, int Users, int Items);

    public static PartSummary ReadSummary(string stepDir, int task) => BinaryArrays.Read(BlockTaskFiles.BlockOutput(stepDir, task), r =>
    {
        var found = JsonSerializer.Deserialize<Found>(r.ReadString())!;
        var empty = IdMap.FromInt64([]);
        if (found.Error is not null) return new PartSummary(new ReadStats([], 0, 0, 0, []), empty, empty, [0], new LakeInputException(found.Error, found.ErrorFile, found.ErrorColumn));
        var stats = new ReadStats(found.Files, 0, found.RowsRead, found.RowsInWindow, found.Skipped, new ObservedTimes(found.Timestamps, found.Epochs))
        {
            IdKinds = (found.UserKind, found.ItemKind, found.KindFile),
        };
        return new PartSummary(stats, ReadIds(r), ReadIds(r), r.ReadArray<long>(), null);
    });

    /// <summary>
    /// The events of the task's users <paramref name="lo"/> ≤ u &lt; <paramref name="hi"/> (its own indices), read from its file
    /// alone: the users column is rebuilt from the offsets.
    /// </summary>
    public static EventLog ReadEvents(string stepDir, int task, int lo, int hi)
    {
        using var r = BinaryArrays.OpenRead(BlockTaskFiles.BlockOutput(stepDir, task));
        r.ReadString();
        SkipIds(r); SkipIds(r);
        long offsetsAt = r.BaseStream.Position;
        long users = r.ReadInt64();
        if (lo < 0 || hi > users - 1 || lo > hi) throw new InvalidDataException($"{BlockTaskFiles.BlockOutput(stepDir, task)}: users {lo}–{hi} outside the part.");
        var offsets = new long[hi - lo + 1];
        r.BaseStream.Position = offsetsAt + 8 + 8L * lo;
        r.BaseStream.ReadExactly(MemoryMarshal.AsBytes(offsets.AsSpan()));
        long first = offsets[0], end = offsets[^1];
        r.BaseStream.Position = offsetsAt + 8 + 8L * users;
        int n = checked((int)(end - first));
        var items = ReadSlice<int>(r, first, n);
        var values = ReadSlice<float>(r, first, n);
        var times = ReadSlice<long>(r, first, n);
        var log = new EventLog.Builder();
        for (int u = lo, e = 0; u < hi; u++)
            for (long c = offsets[u - lo + 1] - offsets[u - lo]; c > 0; c--, e++) log.Add(u, items[e], values[e], times[e]);
        return log.FinishSlice();
    }

    /// <summary>Reads elements [first, first + n) of the array at the reader's position and leaves it past the whole array.</summary>
    private static T[] ReadSlice<T>(BinaryReader r, long first, int n) where T : unmanaged
    {
        long at = r.BaseStream.Position, length = r.ReadInt64();
        int size = Marshal.SizeOf<T>();
        var slice = new T[n];
        r.BaseStream.Position = at + 8 + first * size;
        r.BaseStream.ReadExactly(MemoryMarshal.AsBytes(slice.AsSpan()));
        r.BaseStream.Position = at + 8 + length * size;
        return slice;
    }

    /// <summary>Ids as a kind byte, then INT64 ids, or STRING ids as one UTF-8 blob and each id's end.</summary>
    private static void WriteIds(BinaryWriter w, IdMap ids)
    {
        w.Write((byte)ids.Kind);
        if (ids.Kind == IdKind.Int64) { w.WriteArray(ids.Int64Ids); return; }
        var ends = new int[ids.Count];
        var blob = new List<byte>();
        for (int i = 0; i < ids.Count; i++)
        {
            blob.AddRange(Encoding.UTF8.GetBytes(ids.StringAt(i)));
            ends[i] = blob.Count;
        }
        w.WriteArray<byte>(CollectionsMarshal.AsSpan(blob));
        w.WriteArray<int>(ends);
    }

    private static IdMap ReadIds(BinaryReader r)
    {
        if ((IdKind)r.ReadByte() == IdKind.Int64) return IdMap.FromInt64(r.ReadArray<long>());
        var blob = r.ReadArray<byte>();
        var ends = r.ReadArray<int>();
        var ids = new string[ends.Length];
        for (int i = 0, start = 0; i < ids.Length; start = ends[i], i++) ids[i] = Encoding.UTF8.GetString(blob, start, ends[i] - start);
        return IdMap.FromStrings(ids);
    }

    private static void SkipIds(BinaryReader r)
    {
        if ((IdKind)r.ReadByte() == IdKind.Int64) { Skip(r, sizeof(long)); return; }
        Skip(r, 1); // the UTF-8 blob
        Skip(r, sizeof(int)); // each id's end
    }

    private static void Skip(BinaryReader r, int size)
    {
        long n = r.ReadInt64(); // read before the position is taken
        r.BaseStream.Position += n * size;
    }

    /// <summary>The coordinator's merge for the shard tasks: each task's user and item remap (identity written out), the combine rule, the split and the run's item count.</summary>
    public static long WriteRemaps(string stepDir, IReadOnlyList<int[]?> userRemaps, IReadOnlyList<int[]?> itemRemaps, IReadOnlyList<PartLayout> parts,
        CombineRule rule, PairSplit split, int items)
    {
        string path = RemapsPath(stepDir);
        BinaryArrays.Write(path, w =>
        {
            w.Write((int)rule); w.Write(JsonSerializer.Serialize(split)); w.Write(items); w.Write(parts.Count);
            for (int t = 0; t < parts.Count; t++)
            {
                w.WriteArray<int>(userRemaps[t] ?? Identity(parts[t].Users));
                w.WriteArray<int>(itemRemaps[t] ?? Identity(parts[t].Items));
            }
        });
        return ScratchArea.Length(path);
    }

    private static int[] Identity(int n) => Enumerable.Range(0, n).ToArray();

    public static (CombineRule Rule, PairSplit Split, int Items, int[][] UserRemaps, int[][] ItemRemaps) ReadRemaps(string stepDir) => BinaryArrays.Read(RemapsPath(stepDir), r =>
    {
        var rule = (CombineRule)r.ReadInt32();
        var split = JsonSerializer.Deserialize<PairSplit>(r.ReadString()) ?? throw new InvalidDataException($"{RemapsPath(stepDir)}: no split.");
        int items = r.ReadInt32(), tasks = r.ReadInt32();
        var users = new int[tasks][]; var itemMaps = new int[tasks][];
        for (int t = 0; t < tasks; t++) { users[t] = r.ReadArray<int>(); itemMaps[t] = r.ReadArray<int>(); }
        return (rule, split, items, users, itemMaps);
    });

    /// <summary>
    /// A shard task's output. Its users' training and held-out rows, each as a CSR file of the shard's users × the run's
    /// items and, transposed, of the items × the shard's users (<see cref="RowsPath"/>): the strengths block tasks read
    /// their rows of (<see cref="ShardSides"/>). Then the shard's file, last (its presence says the shard is done): its
    /// first user, the two pair counts and the two parts' <see cref="CsrMatrix.EntryHash"/>, the kept times and cuts.
    /// </summary>
    public static void WriteShard(string stepDir, int shard, SplitShard pairs, int items)
    {
        string dir = ShardDir(stepDir);
        var train = pairs.Train.Matrix(items);
        var held = pairs.HeldOut?.Matrix(items);
        WriteRows(dir, shard, false, train);
        if (held is not null) WriteRows(dir, shard, true, held);
        BinaryArrays.Write(BlockTaskFiles.BlockOutput(dir, shard), w =>
        {
            w.Write(pairs.Lo); w.Write(pairs.Train.Pairs); w.Write(pairs.HeldOut?.Pairs ?? -1);
            w.Write(train.EntryHash(pairs.Lo)); w.Write(held?.EntryHash(pairs.Lo) ?? 0);
            WriteTimes(w, pairs.Train);
            if (pairs.HeldOut is not null) WriteTimes(w, pairs.HeldOut);
            w.Write(pairs.Cuts is not null);
            if (pairs.Cuts is not null) w.WriteArray<long>(pairs.Cuts);
        });
    }

    /// <summary>A shard's training (or held-out) rows' CSR file: its users × items, or <paramref name="transposed"/> items × its users.</summary>
    public static string RowsPath(string shardDir, int shard, bool heldOut, bool transposed) =>
        Path.Combine(shardDir, $"{(heldOut ? "held" : "train")}-{shard:D5}{(transposed ? ".t" : "")}.bin");

    private static void WriteRows(string shardDir, int shard, bool heldOut, CsrMatrix rows)
    {
        BinaryArrays.WriteCsr(RowsPath(shardDir, shard, heldOut, false), rows, null);
        BinaryArrays.WriteTransposedCsr(RowsPath(shardDir, shard, heldOut, true), rows, null);
    }

    private static void WriteTimes(BinaryWriter w, ShardRows rows)
    {
        w.Write(rows.Times is not null);
        if (rows.Times is not null) w.WriteArray<long>(rows.Times);
        w.Write(rows.FirstTimes is not null);
        if (rows.FirstTimes is not null) w.WriteArray<long>(rows.FirstTimes);
    }

    private static ShardRows ReadRows(BinaryReader r, string shardDir, int shard, bool heldOut) =>
        ShardRows.Of(BinaryArrays.ReadCsr(RowsPath(shardDir, shard, heldOut, false)).Matrix, r.ReadBoolean() ? r.ReadArray<long>() : null,
            r.ReadBoolean() ? r.ReadArray<long>() : null);

    /// <summary>A shard file's header: its first user, pair counts (held-out −1 without a hold-out) and the parts' entry hashes.</summary>
    public sealed record ShardHeader(int Lo, int Train, int HeldOut, ulong TrainHash, ulong HeldHash);

    private static ShardHeader ReadHeader(BinaryReader r) => new(r.ReadInt32(), r.ReadInt32(), r.ReadInt32(), r.ReadUInt64(), r.ReadUInt64());

    /// <summary>The header of shard <paramref name="shard"/>'s file; a shard of another first user is refused.</summary>
    private static ShardHeader ReadHeader(BinaryReader r, string stepDir, int shard, int lo)
    {
        var header = ReadHeader(r);
        if (header.Lo != lo) throw new InvalidDataException($"{BlockTaskFiles.BlockOutput(ShardDir(stepDir), shard)}: shard {shard} begins at user {header.Lo}, not {lo}.");
        return header;
    }

    /// <summary>A shard's header (<see cref="ShardHeader"/>).</summary>
    public static ShardHeader ReadShardHeader(string stepDir, int shard) => BinaryArrays.Read(BlockTaskFiles.BlockOutput(ShardDir(stepDir), shard), ReadHeader);

    /// <summary>
    /// A shard's row lengths, training and held-out (null without a hold-out), and its users' cuts when kept: what the
    /// coordinator lays out of a split whose entries stay in the shards. The rows' entries are not read.
    /// </summary>
    public static ShardLengths ReadShardLengths(string stepDir, int shard, int lo) =>
        BinaryArrays.Read(BlockTaskFiles.BlockOutput(ShardDir(stepDir), shard), r =>
        {
            var header = ReadHeader(r, stepDir, shard, lo);
            int[] Lengths(bool held) => BinaryArrays.ReadCsrRowsOnly(RowsPath(ShardDir(stepDir), shard, held, false)).RowLengths();
            SkipTimes(r);
            if (header.HeldOut >= 0) SkipTimes(r);
            return new ShardLengths(lo, Lengths(false), header.HeldOut >= 0 ? Lengths(true) : null, r.ReadBoolean() ? r.ReadArray<long>() : null);
        });

    private static void SkipTimes(BinaryReader r)
    {
        for (int kind = 0; kind < 2; kind++)
            if (r.ReadBoolean()) Skip(r, sizeof(long));
    }

    /// <summary>Reads shard <paramref name="shard"/>'s split pairs; a shard of another first user is refused.</summary>
    public static SplitShard ReadShard(string stepDir, int shard, int lo) => BinaryArrays.Read(BlockTaskFiles.BlockOutput(ShardDir(stepDir), shard), r =>
    {
        var header = ReadHeader(r, stepDir, shard, lo);
        bool held = header.HeldOut >= 0;
        var train = ReadRows(r, ShardDir(stepDir), shard, false);
        var heldOut = held ? ReadRows(r, ShardDir(stepDir), shard, true) : null;
        return new SplitShard(lo, train, heldOut, r.ReadBoolean() ? r.ReadArray<long>() : null);
    });
}
