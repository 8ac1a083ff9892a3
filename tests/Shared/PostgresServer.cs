using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace BatchRecs.Tests;

/// <summary>
/// A throw-away PostgreSQL 15 cluster for tests: initdb into a temp folder, started with pg_ctl on a free loopback
/// port, removed on dispose. As root the server runs as the <c>postgres</c> user through <c>runuser</c>.
/// .ci/run installs the Debian postgresql package when the binaries are missing.
/// </summary>
public sealed class PostgresServer : IDisposable
{
    public const string BinDir = "/usr/lib/postgresql/15/bin";
    private readonly string _dir;
    private readonly bool _asRoot = Environment.UserName == "root";

    public PostgresServer()
    {
        if (!File.Exists(Path.Combine(BinDir, "pg_ctl")))
            throw new InvalidOperationException($"PostgreSQL 15 binaries are not in {BinDir}; install the 'postgresql' package (.ci/run does).");
        _dir = Path.Combine(Path.GetTempPath(), $"batchrecs-pg-{Guid.NewGuid():N}");
        Directory.CreateDirectory(_dir);
        if (_asRoot) Run("chown", "postgres:postgres", _dir);
        Port = FreePort();
        Pg("initdb", "-D", Path.Combine(_dir, "data"), "-A", "trust", "-U", "postgres", "--no-sync");
        Pg("pg_ctl", "-D", Path.Combine(_dir, "data"), "-w", "-t", "60", "-l", Path.Combine(_dir, "server.log"),
            "-o", $"-p {Port} -k {_dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200", "start");
        Run(Path.Combine(BinDir, "psql"), "-h", "127.0.0.1", "-p", Port.ToString(), "-U", "postgres", "-c", "CREATE DATABASE batchrecs");
    }

    public int Port { get; }

    public string ConnectionString => ConnectionStringFor("batchrecs");

    public string ConnectionStringFor(string database) => $"Host=127.0.0.1;Port={Port};Database={database};Username=postgres;Pooling=true;Maximum Pool Size=50";

    /// <summary>A new, empty database; returns its connection string.</summary>
    public string CreateDatabase()
    {
        string name = "db_" + Guid.NewGuid().ToString("N")[..12];
        Run(Path.Combine(BinDir, "psql"), "-h", "127.0.0.1", "-p", Port.ToString(), "-U", "postgres", "-c", $"CREATE DATABASE {name}");
        return ConnectionStringFor(name);
    }

    private void Pg(string tool, params string[] args)
    {
        if (_asRoot) Run("runuser", ["-u", "postgres", "--", Path.Combine(BinDir, tool), .. args]);
        else Run(Path.Combine(BinDir, tool), args);
    }

    private static void Run(string file, params string[] args)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        string err = p.StandardError.ReadToEnd();
        p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0) throw new InvalidOperationException($"{file} {string.Join(' ', args)} failed ({p.ExitCode}): {err}");
    }

    /// <summary>A free TCP port on the loopback interface.</summary>
    public static int FreePort()
    {
        var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        int port = ((IPEndPoint)l.LocalEndpoint).Port;
        l.Stop();
        return port;
    }

    public void Dispose()
    {
        try { Pg("pg_ctl", "-D", Path.Combine(_dir, "data"), "-m", "immediate", "stop"); } catch (InvalidOperationException) { }
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
