using System.Diagnostics;

namespace BatchRecs.Hangfire.Tests;

/// <summary>
/// A real <c>batchrecs</c> child process whose output lines are collected as they come, so a test can act on a moment
/// of the run (a stage starting, an iteration ending) and send it signals.
/// </summary>
internal sealed class StreamingCli : IDisposable
{
    private readonly List<string> _lines = [];
    private readonly List<TimeSpan> _arrived = [];
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly Task _stdout, _stderr;
    private readonly System.Text.StringBuilder _err = new();

    public Process Process { get; }

    public StreamingCli(IReadOnlyDictionary<string, string>? env, params string[] args)
    {
        Process = CliProcess.Start(env, args);
        _stdout = Task.Run(async () =>
        {
            while (await Process.StandardOutput.ReadLineAsync() is { } line)
                lock (_lines) { _lines.Add(line); _arrived.Add(_clock.Elapsed); }
        });
        _stderr = Task.Run(async () =>
        {
            while (await Process.StandardError.ReadLineAsync() is { } line)
                lock (_err) _err.AppendLine(line);
        });
    }

    public string StdOut { get { lock (_lines) return string.Join('\n', _lines); } }

    /// <summary>When the first line matching <paramref name="match"/> arrived, counted from the start of the process; null if none did.</summary>
    public TimeSpan? FirstArrival(Func<string, bool> match)
    {
        lock (_lines)
        {
            int i = _lines.FindIndex(l => match(l));
            return i < 0 ? null : _arrived[i];
        }
    }

    public string StdErr { get { lock (_err) return _err.ToString(); } }

    /// <summary>Waits until a line matching <paramref name="match"/> has been printed (true), or the process ended or the time is up (false).</summary>
    public async Task<bool> WaitForLineAsync(Func<string, bool> match, TimeSpan timeout)
    {
        var sw = Stopwatch.StartNew();
        while (sw.Elapsed < timeout)
        {
            lock (_lines) if (_lines.Any(match)) return true;
            if (Process.HasExited) { await _stdout; lock (_lines) return _lines.Any(match); }
            await Task.Delay(5);
        }
        return false;
    }

    /// <summary>Waits for the process to end (killing it after <paramref name="timeout"/>) and for its output.</summary>
    public async Task<int> ExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try { await Process.WaitForExitAsync(cts.Token); }
        catch (OperationCanceledException) { Process.Kill(entireProcessTree: true); await Process.WaitForExitAsync(); }
        await Task.WhenAll(_stdout, _stderr);
        return Process.ExitCode;
    }

    /// <summary>Sends SIGTERM, as systemd or a terminal's <c>kill</c> does.</summary>
    public void Terminate()
    {
        using var kill = Process.Start(new ProcessStartInfo("kill", ["-TERM", Process.Id.ToString()]) { UseShellExecute = false })!;
        kill.WaitForExit();
    }

    public void Dispose()
    {
        try { if (!Process.HasExited) Process.Kill(entireProcessTree: true); Process.WaitForExit(10_000); } catch (InvalidOperationException) { }
        Process.Dispose();
    }
}
