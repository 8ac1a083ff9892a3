using BatchRecs.Core.Errors;
using System.CommandLine;
using BatchRecs.Hangfire;

namespace BatchRecs.Cli.Commands;

/// <summary>The storage options shared by scheduler, worker, backfill and dashboard.</summary>
internal sealed class HangfireOptions
{
    public Option<string?> Db { get; } = new("--db")
    {
        Description = "PostgreSQL connection string, e.g. \"Host=127.0.0.1;Port=5432;Database=batchrecs;Username=batchrecs\" (password via PGPASSWORD); default $BATCHRECS_DB",
    };

    public Option<string> Storage { get; } = new("--storage")
    {
        Description = "postgres (default) or memory (try it without a database; nothing survives a restart)",
        DefaultValueFactory = _ => "postgres",
    };

    public Option<int> InvisibilitySeconds { get; } = new("--invisibility-timeout")
    {
        Description = "seconds after which a job held by a dead process is handed to another (sliding: live workers keep extending it)",
        DefaultValueFactory = _ => 60,
    };

    public void AddTo(Command cmd) { cmd.Add(Db); cmd.Add(Storage); cmd.Add(InvisibilitySeconds); }

    public StorageOptions Resolve(ParseResult p)
    {
        bool memory = p.GetValue(Storage) switch
        {
            "memory" => true,
            "postgres" => false,
            var s => throw new BadInputException($"--storage must be postgres or memory (got '{s}')."),
        };
        string? cs = p.GetValue(Db) ?? Environment.GetEnvironmentVariable("BATCHRECS_DB");
        if (!memory && string.IsNullOrWhiteSpace(cs)) throw new BadInputException("--db CONNSTR (or $BATCHRECS_DB) is required unless --storage memory.");
        int invisible = p.GetValue(InvisibilitySeconds);
        if (invisible < 1) throw new BadInputException("--invisibility-timeout must be at least 1 second.");
        return new StorageOptions(cs, memory, InvisibilityTimeout: TimeSpan.FromSeconds(invisible));
    }
}
