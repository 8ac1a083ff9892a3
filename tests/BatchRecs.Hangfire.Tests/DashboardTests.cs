using System.Diagnostics;
using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using System.Text;
using Microsoft.AspNetCore.Http;

namespace BatchRecs.Hangfire.Tests;

public class DashboardAccessTests
{
    private static HttpContext Request(string ip, string? authorization = null, string query = "")
    {
        var http = new DefaultHttpContext();
        http.Connection.RemoteIpAddress = IPAddress.Parse(ip);
        if (authorization is not null) http.Request.Headers.Authorization = authorization;
        http.Request.QueryString = new QueryString(query);
        return http;
    }

    [Fact]
    public void Local_requests_pass_and_remote_ones_need_the_configured_secret()
    {
        var none = new DashboardAccess(null, null, null);
        Assert.True(none.IsAllowed(Request("127.0.0.1")));
        Assert.True(none.IsAllowed(Request("::1")));
        Assert.False(none.IsAllowed(Request("10.1.2.3")));
        Assert.False(none.IsAllowed(Request("10.1.2.3", "Bearer anything")));

        var token = new DashboardAccess(null, null, "s3cret");
        Assert.True(token.IsAllowed(Request("10.1.2.3", "Bearer s3cret")));
        Assert.True(token.IsAllowed(Request("10.1.2.3", query: "?token=s3cret")));
        Assert.False(token.IsAllowed(Request("10.1.2.3", "Bearer wrong")));

        var basic = new DashboardAccess("ops", "pw", null);
        string Basic(string s) => "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes(s));
        Assert.True(basic.IsAllowed(Request("10.1.2.3", Basic("ops:pw"))));
        Assert.False(basic.IsAllowed(Request("10.1.2.3", Basic("ops:nope"))));
        Assert.False(basic.IsAllowed(Request("10.1.2.3", "Basic %%%")));
    }

    [Fact]
    public void Auth_schemes_are_case_insensitive()
    {
        // RFC 9110 §11.1: the scheme is a case-insensitive token; some clients send it in lower case.
        var token = new DashboardAccess(null, null, "s3cret");
        Assert.True(token.IsAllowed(Request("10.1.2.3", "bearer s3cret")));
        Assert.True(token.IsAllowed(Request("10.1.2.3", "BEARER s3cret")));
        Assert.False(token.IsAllowed(Request("10.1.2.3", "bearer S3CRET"))); // the secret itself is not
        var basic = new DashboardAccess("ops", "pw", null);
        Assert.True(basic.IsAllowed(Request("10.1.2.3", "basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes("ops:pw")))));
    }

    [Theory]
    [InlineData("X-Forwarded-For", "203.0.113.9")]
    [InlineData("Forwarded", "for=203.0.113.9;proto=https")]
    [InlineData("X-Real-IP", "203.0.113.9")]
    public void A_loopback_request_with_a_forwarding_header_came_through_a_proxy_and_is_not_local(string header, string value)
    {
        var none = new DashboardAccess(null, null, null);
        var proxied = Request("127.0.0.1");
        proxied.Request.Headers[header] = value;
        Assert.False(none.IsAllowed(proxied));
        var token = new DashboardAccess(null, null, "s3cret");
        proxied.Request.Headers.Authorization = "Bearer s3cret";
        Assert.True(token.IsAllowed(proxied));
    }
}

[Collection("postgres")]
public sealed class DashboardTests(PostgresFixture pg)
{

    private static IPAddress? NonLoopbackAddress() => NetworkInterface.GetAllNetworkInterfaces()
        .Where(n => n.OperationalStatus == OperationalStatus.Up)
        .SelectMany(n => n.GetIPProperties().UnicastAddresses)
        .Select(a => a.Address)
        .FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork && !IPAddress.IsLoopback(a));

    [Fact]
    public async Task The_dashboard_serves_runs_locally_refuses_remote_requests_and_a_real_browser_sees_the_last_run()
    {
        using var dir = new TempDirectory("batchrecs-dash");
        string input = dir.Sub("input"), lake = dir.Sub("lake");
        Assert.Equal(0, (await CliProcess.RunAsync("demo-data", "--out", input, "--users", "200", "--items", "80", "--interactions", "3000", "--days", "5", "--end-date", "2026-04-30")).ExitCode);
        var run = await CliProcess.RunAsync("run", "--input", input, "--lake", lake, "--run-date", "2026-05-01", "--set", "iterations=2", "--set", "factors=4", "--set", "quality_gate=false");
        Assert.True(run.ExitCode == 0, run.StdErr);
        string runId = run.StdOut.Split('\n').First(l => l.StartsWith("run ", StringComparison.Ordinal)).Split(' ')[1].TrimEnd(':');

        int port = PostgresServer.FreePort();
        var app = DashboardHost.Build(new DashboardSettings(pg.NewStorage(), port, lake), new DashboardAccess(null, null, "tok"));
        await app.StartAsync();
        try
        {
            using var http = new HttpClient();
            var page = await http.GetAsync($"http://127.0.0.1:{port}/");
            Assert.Equal(HttpStatusCode.OK, page.StatusCode);
            var html = await page.Content.ReadAsStringAsync();
            Assert.Contains(runId, html);
            Assert.Contains("succeeded", html);
            Assert.Equal(HttpStatusCode.OK, (await http.GetAsync($"http://127.0.0.1:{port}/hangfire")).StatusCode);

            if (NonLoopbackAddress() is { } ip)
            {
                // The same server reached through a non-loopback address is a remote request.
                Assert.Equal(HttpStatusCode.Unauthorized, (await http.GetAsync($"http://{ip}:{port}/")).StatusCode);
                Assert.Equal(HttpStatusCode.Unauthorized, (await http.GetAsync($"http://{ip}:{port}/hangfire")).StatusCode);
                Assert.Equal(HttpStatusCode.OK, (await http.GetAsync($"http://{ip}:{port}/?token=tok")).StatusCode);
            }
            else Console.WriteLine("no non-loopback address on this machine: the remote-refusal check ran only as the unit test");

            // A real headless browser renders the runs page and shows the last run.
            var dom = await ChromiumDumpDomAsync($"http://127.0.0.1:{port}/");
            Assert.Contains(runId, dom);
            Assert.Contains("<table id=\"runs\">", dom);
        }
        finally { await app.StopAsync(); await app.DisposeAsync(); }
    }

    private static async Task<string> ChromiumDumpDomAsync(string url)
    {
        const string chromium = "/usr/bin/chromium";
        Assert.True(File.Exists(chromium), "Debian's chromium is needed for the browser check (.ci/run installs it: apt-get install chromium)");
        using var profile = new TempDirectory("batchrecs-chromium");
        var psi = new ProcessStartInfo(chromium) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                     "--disable-component-update", "--disable-sync", $"--user-data-dir={profile.Path}", "--dump-dom", url })
            psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var dom = p.StandardOutput.ReadToEndAsync();
        _ = p.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await p.WaitForExitAsync(cts.Token);
        return await dom;
    }
}
