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

    public void AddTo(Command cmd) { cmd.Add(Db); cmd.Add(Storage); }

    public StorageOptions Resolve(ParseResult p)
    {
        bool memory = p.GetValue(Storage) switch
        {
            "memory" => true,
            "postgres" => false,
            var s => throw new ArgumentException($"--storage must be postgres or memory (got '{s}')."),
        };
        string? cs = p.GetValue(Db) ?? Environment.GetEnvironmentVariable("BATCHRECS_DB");
        if (!memory && string.IsNullOrWhiteSpace(cs)) throw new ArgumentException("--db CONNSTR (or $BATCHRECS_DB) is required unless --storage memory.");
        return new StorageOptions(cs, memory);
    }
}
