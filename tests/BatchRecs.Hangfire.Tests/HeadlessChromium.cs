using System.Diagnostics;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace BatchRecs.Hangfire.Tests;

/// <summary>
/// Debian's Chromium, headless, on one page, driven over the DevTools protocol (a WebSocket, JSON messages):
/// enough to run the dashboard's own scripts and press its buttons. Disposing kills the browser.
/// </summary>
public sealed class HeadlessChromium : IAsyncDisposable
{
    private const string Binary = "/usr/bin/chromium";
    private readonly Process _process;
    private readonly TempDirectory _profile;
    private readonly ClientWebSocket _socket = new();
    private int _nextId;

    private HeadlessChromium(Process process, TempDirectory profile) { _process = process; _profile = profile; }

    public static async Task<HeadlessChromium> OpenAsync(string url)
    {
        Assert.True(File.Exists(Binary), "Debian's chromium is needed for the browser check (.ci/run installs it: apt-get install chromium)");
        var profile = new TempDirectory("batchrecs-chromium");
        var psi = new ProcessStartInfo(Binary) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                     "--disable-component-update", "--disable-sync", "--remote-debugging-port=0", $"--user-data-dir={profile.Path}", url })
            psi.ArgumentList.Add(a);
        var browser = new HeadlessChromium(Process.Start(psi)!, profile);
        _ = browser._process.StandardOutput.ReadToEndAsync();
        _ = browser._process.StandardError.ReadToEndAsync();
        await browser.ConnectAsync();
        return browser;
    }

    /// <summary>Chromium writes its chosen port to DevToolsActivePort; the page's socket is listed at /json/list.</summary>
    private async Task ConnectAsync()
    {
        string portFile = _profile.Sub("DevToolsActivePort");
        var sw = Stopwatch.StartNew();
        while (!File.Exists(portFile) || File.ReadAllText(portFile).Split('\n')[0].Trim().Length == 0)
        {
            if (sw.Elapsed > TimeSpan.FromSeconds(30)) Assert.Fail("chromium did not open its DevTools port");
            await Task.Delay(100);
        }
        string port = File.ReadAllText(portFile).Split('\n')[0].Trim();
        using var http = new HttpClient();
        string? socketUrl = null;
        while (socketUrl is null)
        {
            var targets = JsonNode.Parse(await http.GetStringAsync($"http://127.0.0.1:{port}/json/list"))!.AsArray();
            socketUrl = targets.FirstOrDefault(t => (string?)t!["type"] == "page")?["webSocketDebuggerUrl"]?.GetValue<string>();
            if (socketUrl is null)
            {
                if (sw.Elapsed > TimeSpan.FromSeconds(30)) Assert.Fail("chromium opened no page");
                await Task.Delay(100);
            }
        }
        await _socket.ConnectAsync(new Uri(socketUrl), CancellationToken.None);
    }

    /// <summary>Evaluates a JavaScript expression in the page and returns its value as JSON.</summary>
    public async Task<JsonNode?> EvaluateAsync(string expression)
    {
        int id = ++_nextId;
        var call = new JsonObject
        {
            ["id"] = id,
            ["method"] = "Runtime.evaluate",
            ["params"] = new JsonObject { ["expression"] = expression, ["returnByValue"] = true, ["awaitPromise"] = true },
        };
        await _socket.SendAsync(Encoding.UTF8.GetBytes(call.ToJsonString()), WebSocketMessageType.Text, true, CancellationToken.None);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (true)
        {
            var message = JsonNode.Parse(await ReceiveAsync(timeout.Token))!;
            if ((int?)message["id"] != id) continue; // events and other replies
            if (message["result"]?["exceptionDetails"] is { } error) Assert.Fail($"page script failed: {error.ToJsonString()}");
            return message["result"]?["result"]?["value"];
        }
    }

    /// <summary>Polls a boolean expression until it holds (page load, scripts ready).</summary>
    public async Task WaitUntilAsync(string condition, int seconds = 30)
    {
        var sw = Stopwatch.StartNew();
        while ((await EvaluateAsync(condition))?.GetValueKind() != JsonValueKind.True)
        {
            if (sw.Elapsed.TotalSeconds > seconds) Assert.Fail($"timed out after {seconds} s waiting in the browser until {condition}");
            await Task.Delay(200);
        }
    }

    private async Task<string> ReceiveAsync(CancellationToken ct)
    {
        var buffer = new byte[64 * 1024];
        using var text = new MemoryStream();
        WebSocketReceiveResult r;
        do
        {
            r = await _socket.ReceiveAsync(buffer, ct);
            text.Write(buffer, 0, r.Count);
        } while (!r.EndOfMessage);
        return Encoding.UTF8.GetString(text.ToArray());
    }

    public async ValueTask DisposeAsync()
    {
        _socket.Dispose();
        try { _process.Kill(entireProcessTree: true); await _process.WaitForExitAsync(); } catch (InvalidOperationException) { }
        _process.Dispose();
        _profile.Dispose();
    }
}
