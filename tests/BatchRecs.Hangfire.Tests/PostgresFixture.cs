namespace BatchRecs.Hangfire.Tests;

/// <summary>One throw-away PostgreSQL cluster for all scheduler tests; each test takes its own Hangfire schema.</summary>
public sealed class PostgresFixture : IDisposable
{
    public PostgresServer Server { get; } = new();

    public StorageOptions NewStorage() => new(Server.ConnectionString, Schema: "hf_" + Guid.NewGuid().ToString("N")[..10],
        PollInterval: TimeSpan.FromMilliseconds(500));

    public void Dispose() => Server.Dispose();
}

[CollectionDefinition("postgres")]
public sealed class PostgresCollection : ICollectionFixture<PostgresFixture>;
