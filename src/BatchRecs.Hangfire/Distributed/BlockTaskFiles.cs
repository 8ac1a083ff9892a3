using System.Text.Json;
using BatchRecs.Core.Als;
using BatchRecs.Lake.Scratch;

namespace BatchRecs.Hangfire.Distributed;

/// <summary>
/// The scratch area of one distributed fit, in the shared lake:
/// <code>
/// LAKE/_scratch/RUN/csr-ID.bin                 a side's confidence CSR (+ preferences), written once per problem
/// LAKE/_scratch/RUN/step-NNNNN/input.bin       per half-step: settings, dst factors, their Gram matrix, src warm start
/// LAKE/_scratch/RUN/step-NNNNN/block-BBBBB.bin a block task's output rows (write-then-rename: present means complete)
/// </code>
/// Everything a block task needs is in these files, so a task is a pure function of them and running it twice is harmless.
/// </summary>
public static class BlockTaskFiles
{
    public static string StepInputPath(string stepDir) => Path.Combine(stepDir, "input.bin");

    public static string BlockOutput(string stepDir, int block) => Path.Combine(stepDir, $"block-{block:D5}.bin");

    public sealed record StepInput(AlsSettings Settings, float[] DstFactors, float[] Gram, float[] SrcFactors);

    public static long WriteStep(string stepDir, HalfStep step)
    {
        string path = StepInputPath(stepDir);
        BinaryArrays.Write(path, w =>
        {
            w.Write(JsonSerializer.Serialize(step.Settings));
            w.WriteArray<float>(step.DstFactors);
            w.WriteArray<float>(step.Gram);
            w.WriteArray<float>(step.SrcFactors);
        });
        return new FileInfo(path).Length;
    }

    public static StepInput ReadStep(string stepDir) => BinaryArrays.Read(StepInputPath(stepDir), r =>
        new StepInput(JsonSerializer.Deserialize<AlsSettings>(r.ReadString())!, r.ReadArray<float>(), r.ReadArray<float>(), r.ReadArray<float>()));

    public static void WriteBlock(string stepDir, int block, int start, ReadOnlySpan<float> rows)
    {
        var copy = rows.ToArray();
        BinaryArrays.Write(BlockOutput(stepDir, block), w => { w.Write(start); w.WriteArray<float>(copy); });
    }

    public static (int Start, float[] Rows) ReadBlock(string stepDir, int block) =>
        BinaryArrays.Read(BlockOutput(stepDir, block), r => (r.ReadInt32(), r.ReadArray<float>()));
}
