using System.CommandLine;
using BatchRecs.Bench;

// dotnet run -c Release --project bench/BatchRecs.Bench -- als|topn|read|quality|unbiased|tune|distributed|publish [options]
var root = new RootCommand("BatchRecs benchmarks: ALS, top-N and readers on synthetic data; quality and tuning on the public data sets; the distributed executor.")
{
    AlsBench.Create(),
    TopNBench.Create(),
    ReadBench.Create(),
    QualityBench.Create(),
    UnbiasedBench.Create(),
    TuneBench.Create(),
    DistributedBench.Create(),
    PublishBench.Create(),
};
return await root.Parse(args).InvokeAsync();
