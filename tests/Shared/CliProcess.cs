using System.Diagnostics;

namespace BatchRecs.Tests;

/// <summary>Runs the real <c>batchrecs</c> command (built beside the tests) as a child process.</summary>
public static class CliProcess
{
    public sealed record Result(int ExitCode, string StdOut, string StdErr);

    public static Task<Result> RunAsync(params string[] args) => RunWithEnvironmentAsync(null, args);

    public static Task<Result> RunWithEnvironmentAsync(IReadOnlyDictionary<string, string>? environment, params string[] args) =>
        RunDllAsync("batchrecs.dll", environment, args);

    /// <summary>Runs the benchmark harness (bench/BatchRecs.Bench, built beside the tests that reference it).</summary>
    public static Task<Result> RunBenchAsync(params string[] args) => RunDllAsync("BatchRecs.Bench.dll", null, args);

    private static async Task<Result> RunDllAsync(string dll, IReadOnlyDictionary<string, string>? environment, string[] args)
    {
        using var p = StartDll(dll, environment, args);
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(5));
        await p.WaitForExitAsync(cts.Token);
        return new Result(p.ExitCode, await stdout, await stderr);
    }

    /// <summary>Starts the command without waiting (for servers and workers); the caller disposes (and kills) it.</summary>
    public static Process Start(IReadOnlyDictionary<string, string>? environment, params string[] args) =>
        StartDll("batchrecs.dll", environment, args);

    /// <summary>As <see cref="Start"/>, in its own working directory (a host that shares no disk with the others).</summary>
    public static Process StartIn(string workingDirectory, IReadOnlyDictionary<string, string>? environment, params string[] args) =>
        StartDll("batchrecs.dll", environment, args, workingDirectory);

    private static Process StartDll(string dllName, IReadOnlyDictionary<string, string>? environment, string[] args, string? workingDirectory = null)
    {
        var dll = Path.Combine(AppContext.BaseDirectory, dllName);
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        if (workingDirectory is not null) { Directory.CreateDirectory(workingDirectory); psi.WorkingDirectory = workingDirectory; }
        psi.ArgumentList.Add(dll);
        foreach (var a in args) psi.ArgumentList.Add(a);
        foreach (var (k, v) in environment ?? new Dictionary<string, string>()) psi.Environment[k] = v;
        psi.Environment["DOTNET_DbgEnableMiniDump"] = "0";
        return Process.Start(psi)!;
    }
}
