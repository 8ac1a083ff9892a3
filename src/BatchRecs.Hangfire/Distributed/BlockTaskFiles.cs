using System.Text.Json;
using BatchRecs.Core.Als;
using BatchRecs.Core.Data;
using BatchRecs.Core.Execution;
using BatchRecs.Core.Index;
using BatchRecs.Lake.Scratch;

namespace BatchRecs.Hangfire.Distributed;

/// <summary>
/// The scratch area of one distributed fit, in the shared lake:
/// <code>
/// LAKE/_scratch/RUN/csr-ID.bin                 a side's confidence CSR (+ preferences), written once per problem, or
/// LAKE/_scratch/RUN/side-ID.bin                what a side is where the shards store its strengths (<see cref="ShardSides"/>)
/// LAKE/_scratch/RUN/step-NNNNN/input.bin       per half-step: settings, dst factors, their Gram matrix, src warm start
/// LAKE/_scratch/RUN/step-NNNNN/block-BBBBB.bin a block task's output rows (write-then-rename: present means complete)
/// </code>
/// Everything a block task needs is in these files, so a task is a pure function of them and running it twice is harmless.
/// </summary>
public static class BlockTaskFiles
{
    public static string StepInputPath(string stepDir) => Path.Combine(stepDir, "input.bin");

    public static string BlockOutput(string stepDir, int block) => Path.Combine(stepDir, $"block-{block:D5}.bin");

    /// <summary>What every block of a half-step shares; each block reads its own rows of the src warm start
    /// (<see cref="ReadWarmStart"/>, from <paramref name="SrcOffset"/>), not the whole side.</summary>
    /// <param name="Settings">the fit's settings.</param>
    /// <param name="DstFactors">the fixed side's factors.</param>
    /// <param name="Gram">their Gram matrix.</param>
    /// <param name="SrcOffset">where the src warm start's array (its length, then its values) begins in the file.</param>
    /// <param name="SrcLength">its length in floats.</param>
    /// <param name="RowLoss">whether each block also writes its rows' shares of the loss (<see cref="HalfStep.RowLoss"/>).</param>
    public sealed record StepInput(AlsSettings Settings, float[] DstFactors, float[] Gram, long SrcOffset, long SrcLength, bool RowLoss)
    {
        public long Bytes => 4L * (DstFactors.Length + Gram.Length);
    }

    public static long WriteStep(string stepDir, HalfStep step)
    {
        string path = StepInputPath(stepDir);
        BinaryArrays.Write(path, w =>
        {
            w.Write(JsonSerializer.Serialize(step.Settings));
            w.WriteArray<float>(step.DstFactors);
            w.WriteArray<float>(step.Gram);
            w.Write(step.RowLoss is not null);
            w.WriteArray<float>(step.SrcFactors);
        });
        return ScratchArea.Length(path);
    }

    public static StepInput ReadStep(string stepDir) => BinaryArrays.Read(StepInputPath(stepDir), r =>
    {
        var settings = JsonSerializer.Deserialize<AlsSettings>(r.ReadString())!;
        var dst = r.ReadArray<float>();
        var gram = r.ReadArray<float>();
        bool rowLoss = r.ReadBoolean();
        long offset = r.BaseStream.Position;
        return new StepInput(settings, dst, gram, offset, r.ReadInt64(), rowLoss);
    });

    /// <summary>Reads the src warm start's rows of one block (<paramref name="rows"/>: from row <paramref name="start"/>).</summary>
    public static void ReadWarmStart(string stepDir, StepInput input, int start, Span<float> rows)
    {
        long first = (long)start * input.Settings.Factors;
        if (first + rows.Length > input.SrcLength) throw new InvalidDataException($"{StepInputPath(stepDir)}: rows past the end of the warm start.");
        using var r = BinaryArrays.OpenRead(StepInputPath(stepDir));
        r.BaseStream.Position = input.SrcOffset + sizeof(long) + 4 * first;
        r.BaseStream.ReadExactly(System.Runtime.InteropServices.MemoryMarshal.AsBytes(rows));
    }

    /// <param name="stepDir">the half-step's scratch folder.</param>
    /// <param name="block">the block's index.</param>
    /// <param name="start">the block's first row.</param>
    /// <param name="rows">its solved rows.</param>
    /// <param name="rowLoss">its rows' shares of the loss, when the step asks for them (else empty).</param>
    /// <param name="task">what the task spent reading its inputs and solving, and on which worker thread (the coordinator
    /// tells that from coordination).</param>
    public static void WriteBlock(string stepDir, int block, int start, float[] rows, double[] rowLoss, BlockTime task) =>
        BinaryArrays.Write(BlockOutput(stepDir, block), w =>
        {
            w.Write(start); w.WriteArray<float>(rows); w.WriteArray<double>(rowLoss); w.Write(task.Seconds); w.Write(task.Thread);
        });

    /// <summary>A block task's own time (reading its inputs and solving) and the worker thread that ran it.</summary>
    public readonly record struct BlockTime(double Seconds, string Thread)
    {
        public static BlockTime Here(double seconds) => new(seconds, $"{Environment.MachineName}/{Environment.ProcessId}/{Environment.CurrentManagedThreadId}");
    }

    /// <summary>
    /// Rows [<paramref name="start"/>, <paramref name="end"/>) of the side a block task is handed (row j = row start + j) and
    /// their preferences: a CSR file the coordinator wrote (<see cref="BinaryArrays.ReadCsrRows"/>), or a side file whose
    /// rows the task reads from the stored shards and weighs (<see cref="ShardSides.ReadRows"/>).
    /// </summary>
    public static (CsrMatrix Matrix, float[]? Pref) ReadRows(string path, int start, int end) =>
        ShardSides.IsSide(path) ? ShardSides.ReadRows(path, start, end) : BinaryArrays.ReadCsrRows(path, start, end);

    /// <summary>The shape and row pointers of the side a block task is handed (a CSR file or a side file).</summary>
    public static CsrMatrix ReadRowsOnly(string path) => ShardSides.IsSide(path) ? ShardSides.ReadRowsOnly(path) : BinaryArrays.ReadCsrRowsOnly(path);

    /// <summary>A scoring step's inputs: user and item factors, the exclusions and the index parameters.</summary>
    /// <param name="stepDir">the step's folder in the scratch area.</param>
    /// <param name="step">the step.</param>
    /// <param name="excludeCsr">a CSR or side file already in the scratch area whose pattern is the step's exclusions (the fit's
    /// user side: the exclusions are the fitted pairs), referenced instead of written again; null: the pattern is written.</param>
    public static long WriteScoring(string stepDir, ScoringStep step, string? excludeCsr = null)
    {
        string path = StepInputPath(stepDir);
        BinaryArrays.Write(path, w =>
        {
            w.Write(step.K); w.Write(step.N); w.Write(step.Nprobe);
            w.Write(step.Ivf is null ? "" : JsonSerializer.Serialize(step.Ivf));
            w.WriteArray<float>(step.UserFactors);
            w.WriteArray<float>(step.ItemFactors);
            w.Write(excludeCsr ?? "");
            if (excludeCsr is null) WritePattern(w, step.Exclude);
            w.WriteArray<int>(step.Banned is null ? [] : step.Banned.Order().ToArray());
            w.Write(step.RuleExclude is not null);
            if (step.RuleExclude is not null) WritePattern(w, step.RuleExclude);
        });
        return ScratchArea.Length(path);
    }

    /// <summary>
    /// A scoring step as written, and the CSR or side file its exclusions reference (null: the pattern was written into the
    /// step). A referenced pattern is the step's to read by block (<see cref="ReadRows"/>): the step's
    /// <see cref="ScoringStep.Exclude"/> is then only its shape and row pointers (<see cref="CsrMatrix.RowsOnly"/>).
    /// </summary>
    /// <param name="stepDir">the step's folder in the scratch area.</param>
    public static (ScoringStep Step, string? ExcludeCsr) ReadScoring(string stepDir) => BinaryArrays.Read(StepInputPath(stepDir), r =>
    {
        int k = r.ReadInt32(), n = r.ReadInt32(), nprobe = r.ReadInt32();
        string ivf = r.ReadString();
        var users = r.ReadArray<float>();
        var items = r.ReadArray<float>();
        string excludeCsr = r.ReadString();
        var exclude = excludeCsr.Length == 0 ? ReadPattern(r) : ReadRowsOnly(excludeCsr);
        var banned = r.ReadArray<int>();
        var rules = r.ReadBoolean() ? ReadPattern(r) : null;
        return (new ScoringStep(users, items, k, n, exclude, [], ivf.Length == 0 ? null : JsonSerializer.Deserialize<IvfBuildOptions>(ivf), nprobe,
            banned.Length == 0 ? null : banned.ToHashSet(), rules), excludeCsr.Length == 0 ? null : excludeCsr);
    });

    /// <summary>A CSR's shape and pattern (exclusions need no values).</summary>
    private static void WritePattern(BinaryWriter w, CsrMatrix m)
    {
        w.Write(m.Rows); w.Write(m.Cols);
        w.WriteArray<int>(m.RowPtr); w.WriteArray<int>(m.ColIdx);
    }

    private static CsrMatrix ReadPattern(BinaryReader r)
    {
        int rows = r.ReadInt32(), cols = r.ReadInt32();
        var ptr = r.ReadArray<int>(); var idx = r.ReadArray<int>();
        return new CsrMatrix(rows, cols, ptr, idx, new float[idx.Length]);
    }

    public static void WriteLists(string stepDir, int block, TopNResult lists) =>
        BinaryArrays.Write(BlockOutput(stepDir, block), w =>
        {
            w.Write(lists.Users); w.Write(lists.N);
            w.WriteArray<int>(lists.Counts); w.WriteArray<int>(lists.Items); w.WriteArray<float>(lists.Scores);
            w.Write(lists.RuleRemoved);
        });

    /// <summary>
    /// Reads a block's lists straight into its users' rows of <paramref name="all"/> (no array of the block's own: at 1M users
    /// a scoring's gather through per-block results left 160 MB of them behind), adding what its rules removed; a file of
    /// another shape is refused.
    /// </summary>
    public static void ReadListsInto(string stepDir, RowBlock block, TopNResult all)
    {
        string path = BlockOutput(stepDir, block.Index);
        using var r = BinaryArrays.OpenRead(path);
        int users = r.ReadInt32(), n = r.ReadInt32();
        if (users != block.Length || n != all.N
            || !r.ReadArrayInto(all.Counts.AsSpan(block.Start, block.Length))
            || !r.ReadArrayInto(all.Items.AsSpan(block.Start * n, block.Length * n))
            || !r.ReadArrayInto(all.Scores.AsSpan(block.Start * n, block.Length * n)))
            throw new InvalidDataException($"{path}: block {block.Index} has the wrong shape.");
        all.AddRuleRemoved(r.ReadInt64());
    }

    /// <summary>
    /// Reads a block's solved rows straight into <paramref name="destination"/> (the block's rows of the src factors);
    /// a file of another start or length is refused.
    /// </summary>
    /// <param name="stepDir">the half-step's scratch folder.</param>
    /// <param name="block">the block's index.</param>
    /// <param name="start">the block's first row.</param>
    /// <param name="destination">the block's rows × k values.</param>
    /// <param name="rowLoss">the block's rows' shares of the loss (empty when the step did not ask for them).</param>
    /// <returns>what the block task spent reading and solving, and where.</returns>
    public static BlockTime ReadBlockInto(string stepDir, int block, int start, Span<float> destination, Span<double> rowLoss)
    {
        string path = BlockOutput(stepDir, block);
        using var r = BinaryArrays.OpenRead(path);
        if (r.ReadInt32() != start || !r.ReadArrayInto(destination) || !r.ReadArrayInto(rowLoss))
            throw new InvalidDataException($"{path}: block {block} has the wrong shape.");
        return new BlockTime(r.ReadDouble(), r.ReadString());
    }
}
