using System.Net;
using System.Text.RegularExpressions;
using Hangfire;
using Hangfire.Storage;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;

namespace BatchRecs.Hangfire.Tests;

/// <summary>
/// The dashboard started with <c>--allow-writes</c>, on a real Kestrel and PostgreSQL: writes need a same-origin
/// request carrying the page's antiforgery token, and a proxy on the same host does not make everyone local.
/// </summary>
[Collection("postgres")]
public sealed class DashboardWriteTests(PostgresFixture pg)
{
    private const string JobId = "job:csrf-target";
    private const string Evil = "http://evil.example";

    private sealed record Dashboard(WebApplication App, JobStorage Storage, string Url) : IAsyncDisposable
    {
        public RecurringJobDto? Job()
        {
            using var c = Storage.GetConnection();
            return c.GetRecurringJobs().SingleOrDefault(j => j.Id == JobId);
        }

        public async ValueTask DisposeAsync() { await App.StopAsync(); await App.DisposeAsync(); }
    }

    /// <summary>A writable dashboard on a free loopback port with one recurring job (never due: only a trigger runs it).</summary>
    private async Task<Dashboard> StartAsync()
    {
        int port = PostgresServer.FreePort();
        var app = DashboardHost.Build(new DashboardSettings(pg.NewStorage(), port, Lake: null, AllowWrites: true, Bind: "127.0.0.1"),
            new DashboardAccess(null, null, "tok"));
        await app.StartAsync();
        var storage = app.Services.GetRequiredService<JobStorage>();
        new RecurringJobManager(storage).AddOrUpdate(JobId, () => Console.WriteLine("csrf target"), Cron.Never());
        return new Dashboard(app, storage, $"http://127.0.0.1:{port}");
    }

    private static HttpRequestMessage Post(string url, string? origin = null, string? referer = null)
    {
        var req = new HttpRequestMessage(HttpMethod.Post, url) { Content = new FormUrlEncodedContent([new("jobs[]", JobId)]) };
        if (origin is not null) req.Headers.Add("Origin", origin);
        if (referer is not null) req.Headers.Referrer = new Uri(referer);
        return req;
    }

    [Fact]
    public async Task A_cross_origin_post_is_refused_and_the_recurring_job_is_left_alone()
    {
        await using var dash = await StartAsync();
        using var http = new HttpClient();
        Assert.Equal(HttpStatusCode.Forbidden, (await http.SendAsync(Post(dash.Url + "/hangfire/recurring/trigger", origin: Evil))).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await http.SendAsync(Post(dash.Url + "/hangfire/recurring/remove", origin: Evil))).StatusCode);
        // Without Origin the Referer decides.
        Assert.Equal(HttpStatusCode.Forbidden, (await http.SendAsync(Post(dash.Url + "/hangfire/recurring/remove", referer: Evil + "/page"))).StatusCode);
        var job = dash.Job();
        Assert.NotNull(job);
        Assert.Null(job.LastJobId); // never triggered
    }

    [Fact]
    public async Task A_same_origin_post_needs_the_antiforgery_token_the_page_carries()
    {
        await using var dash = await StartAsync();
        using var http = new HttpClient(new HttpClientHandler { UseCookies = true, CookieContainer = new CookieContainer() });

        // Same origin and the antiforgery cookie from a page view, but no token header: refused.
        var page = await http.GetStringAsync(dash.Url + "/hangfire/recurring");
        Assert.Equal(HttpStatusCode.Forbidden, (await http.SendAsync(Post(dash.Url + "/hangfire/recurring/trigger", origin: dash.Url))).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await http.SendAsync(Post(dash.Url + "/hangfire/recurring/remove", origin: dash.Url))).StatusCode);
        Assert.Null(dash.Job()!.LastJobId);

        // What the dashboard's own script does: send the token from the page's meta tags.
        string header = Meta(page, "csrf-header"), token = Meta(page, "csrf-token");
        var trigger = Post(dash.Url + "/hangfire/recurring/trigger", origin: dash.Url);
        trigger.Headers.Add(header, token);
        Assert.Equal(HttpStatusCode.NoContent, (await http.SendAsync(trigger)).StatusCode);
        Assert.NotNull(dash.Job()!.LastJobId);
        var remove = Post(dash.Url + "/hangfire/recurring/remove", referer: dash.Url + "/hangfire/recurring");
        remove.Headers.Add(header, token);
        Assert.Equal(HttpStatusCode.NoContent, (await http.SendAsync(remove)).StatusCode);
        Assert.Null(dash.Job());
    }

    [Fact]
    public async Task A_loopback_request_relayed_by_a_proxy_is_not_local()
    {
        await using var dash = await StartAsync();
        using var http = new HttpClient();
        foreach (var (name, value) in new[] { ("X-Forwarded-For", "203.0.113.9"), ("Forwarded", "for=203.0.113.9"), ("X-Real-IP", "203.0.113.9") })
        {
            foreach (var path in new[] { "/", "/hangfire" })
            {
                var req = new HttpRequestMessage(HttpMethod.Get, dash.Url + path);
                req.Headers.Add(name, value);
                Assert.Equal(HttpStatusCode.Unauthorized, (await http.SendAsync(req)).StatusCode);
            }
            var withToken = new HttpRequestMessage(HttpMethod.Get, dash.Url + "/hangfire");
            withToken.Headers.Add(name, value);
            withToken.Headers.TryAddWithoutValidation("authorization", "bearer tok");
            Assert.Equal(HttpStatusCode.OK, (await http.SendAsync(withToken)).StatusCode);
        }
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync(dash.Url + "/hangfire")).StatusCode); // plain loopback stays local
    }

    [Fact]
    public async Task A_real_browser_triggers_a_job_from_the_dashboard_page()
    {
        await using var dash = await StartAsync();
        await using var browser = await HeadlessChromium.OpenAsync(dash.Url + "/hangfire/recurring");
        await browser.WaitUntilAsync("document.readyState === 'complete' && !!window.jQuery && !!document.querySelector('.js-jobs-list-checkbox')");
        // Select the job and press "Trigger now", as an operator would; the page's script posts with the token.
        await browser.EvaluateAsync($$"""
            (() => {
              document.querySelector('.js-jobs-list-checkbox[value="{{JobId}}"]').click();
              document.querySelector('button[data-url$="/recurring/trigger"]').click();
              return true;
            })()
            """);
        var sw = System.Diagnostics.Stopwatch.StartNew();
        while (dash.Job()?.LastJobId is null && sw.Elapsed < TimeSpan.FromSeconds(20)) await Task.Delay(200);
        Assert.True(dash.Job()?.LastJobId is not null, "the browser's trigger did not reach the server");
    }

    private static string Meta(string html, string name)
    {
        var m = Regex.Match(html, $"<meta name=\"{name}\" content=\"([^\"]*)\"");
        Assert.True(m.Success && m.Groups[1].Value.Length > 0, $"the dashboard page has no {name} meta tag (antiforgery not wired)");
        return m.Groups[1].Value;
    }
}
