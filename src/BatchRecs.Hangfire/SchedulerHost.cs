using BatchRecs.Engine.Pipeline;
using Hangfire;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace BatchRecs.Hangfire;

/// <summary>What a scheduler or worker process runs.</summary>
/// <param name="JobsDir">folder of job files to keep as recurring jobs (null: a pure worker, no schedules).</param>
/// <param name="Queues">queues this server takes work from.</param>
/// <param name="RetryDelay">delay unit of <see cref="TransientRetryAttribute"/>.</param>
/// <param name="Storage">the Hangfire storage shared with the other servers.</param>
/// <param name="WorkerCount">jobs this process runs at once.</param>
/// <param name="Rescan">how often the jobs folder is re-read besides file-system events (null: 30 s).</param>
/// <param name="ServerName">prefix of the Hangfire server name (the host and process id are appended).</param>
/// <param name="Runs">how this server's <see cref="NightlyJobs"/> run (null: the defaults).</param>
/// <param name="BlockTaskHooks">test hooks of this process's block tasks (null: none).</param>
public sealed record SchedulerOptions(
    StorageOptions Storage,
    string? JobsDir,
    string[] Queues,
    int WorkerCount = 2,
    TimeSpan? RetryDelay = null,
    TimeSpan? Rescan = null,
    string ServerName = "batchrecs",
    Distributed.BlockTaskHooks? BlockTaskHooks = null,
    NightlyJobsOptions? Runs = null);

/// <summary>Builds the generic host of a Hangfire server running BatchRecs jobs.</summary>
public static class SchedulerHost
{
    /// <summary>Global Hangfire policies: our retry filter instead of the default AutomaticRetry.</summary>
    public static void ConfigurePolicies(IGlobalConfiguration config, TimeSpan? retryDelay)
    {
        GlobalJobFilters.Filters.Remove(typeof(AutomaticRetryAttribute));
        foreach (var f in GlobalJobFilters.Filters.Where(f => f.Instance is TransientRetryAttribute).ToList())
            GlobalJobFilters.Filters.Remove(f.Instance);
        config.UseFilter(new TransientRetryAttribute { Delay = retryDelay ?? TimeSpan.FromSeconds(30) });
    }

    public static IHost Build(SchedulerOptions options, TextWriter? logWriter = null)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.Logging.AddSimpleConsole(o => { o.SingleLine = true; o.TimestampFormat = "yyyy-MM-ddTHH:mm:ssZ "; o.UseUtcTimestamp = true; });
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        var log = new RunLog(logWriter ?? Console.Out);
        builder.Services.AddSingleton(log);
        builder.Services.AddSingleton(options.Runs ?? new NightlyJobsOptions());
        builder.Services.AddSingleton(options.Storage);
        builder.Services.AddTransient<NightlyJobs>();
        // One block-task cache per host (a worker process has one): every block task it runs shares what the others read.
        builder.Services.AddSingleton<Distributed.BlockTaskCache>();
        builder.Services.AddSingleton(options.BlockTaskHooks ?? Distributed.BlockTaskHooks.None);
        builder.Services.AddTransient<Distributed.BlockTasks>();
        builder.Services.AddHangfire(config =>
        {
            options.Storage.Apply(config);
            ConfigurePolicies(config, options.RetryDelay);
        });
        builder.Services.AddHangfireServer(o =>
        {
            o.ServerName = $"{options.ServerName}:{Environment.MachineName}:{Environment.ProcessId}";
            o.Queues = options.Queues;
            o.WorkerCount = options.WorkerCount;
            o.SchedulePollingInterval = TimeSpan.FromSeconds(1);
            o.ServerCheckInterval = TimeSpan.FromSeconds(30);
            o.HeartbeatInterval = TimeSpan.FromSeconds(5);
            o.ServerTimeout = TimeSpan.FromMinutes(1);
        });
        if (options.JobsDir is { } dir)
            builder.Services.AddHostedService(sp => new JobFileSync(dir, sp.GetRequiredService<JobStorage>(), sp.GetRequiredService<IRecurringJobManager>(), log, options.Rescan));
        return builder.Build();
    }
}
