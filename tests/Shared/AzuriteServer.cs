using System.Diagnostics;
using System.Net.Sockets;

namespace BatchRecs.Tests;

/// <summary>
/// A throw-away Azurite blob service (Microsoft's Azure Storage emulator) for tests: <c>azurite-blob</c> on a free loopback
/// port, its data in a temp folder, killed and removed on dispose. <c>./test</c> installs it from npm into
/// <c>~/.cache/batchrecs/azurite</c> (or where <c>BATCHRECS_AZURITE</c> points) when it is missing.
/// </summary>
public sealed class AzuriteServer : IDisposable
{
    /// <summary>Azurite's well-known development account (public, documented by Microsoft; not a secret).</summary>
    private const string Account = "devstoreaccount1";
    private const string Key = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

    private readonly string _dir = Path.Combine(Path.GetTempPath(), $"batchrecs-azurite-{Guid.NewGuid():N}");
    private readonly Process _process;

    public AzuriteServer()
    {
        string bin = Binary();
        if (!File.Exists(bin))
            throw new InvalidOperationException($"azurite-blob is not at {bin}; ./test installs it (npm install --prefix ~/.cache/batchrecs/azurite azurite).");
        Directory.CreateDirectory(_dir);
        Port = PostgresServer.FreePort();
        var psi = new ProcessStartInfo(bin) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { "--location", _dir, "--blobHost", "127.0.0.1", "--blobPort", Port.ToString(), "--skipApiVersionCheck", "--loose", "--silent" })
            psi.ArgumentList.Add(a);
        _process = Process.Start(psi)!;
        _process.OutputDataReceived += (_, _) => { };
        _process.ErrorDataReceived += (_, _) => { };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            try
            {
                using var probe = new TcpClient();
                probe.Connect("127.0.0.1", Port);
                break;
            }
            catch (SocketException) when (DateTime.UtcNow < deadline && !_process.HasExited)
            {
                Thread.Sleep(100);
            }
        }
    }

    public int Port { get; }

    /// <summary>The connection string a client gives as AZURE_STORAGE_CONNECTION_STRING.</summary>
    public string ConnectionString =>
        $"DefaultEndpointsProtocol=http;AccountName={Account};AccountKey={Key};BlobEndpoint=http://127.0.0.1:{Port}/{Account};";

    /// <summary>The environment a batchrecs process needs to reach this server.</summary>
    public IReadOnlyDictionary<string, string> Environment => new Dictionary<string, string> { ["AZURE_STORAGE_CONNECTION_STRING"] = ConnectionString };

    public static string Binary() =>
        System.Environment.GetEnvironmentVariable("BATCHRECS_AZURITE") is { Length: > 0 } bin ? bin
            : Path.Combine(System.Environment.GetFolderPath(System.Environment.SpecialFolder.UserProfile), ".cache", "batchrecs", "azurite", "node_modules", ".bin", "azurite-blob");

    public void Dispose()
    {
        try { _process.Kill(entireProcessTree: true); _process.WaitForExit(10_000); } catch (InvalidOperationException) { }
        _process.Dispose();
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
