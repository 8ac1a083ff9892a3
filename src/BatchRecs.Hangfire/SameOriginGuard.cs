using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Http;

namespace BatchRecs.Hangfire;

/// <summary>
/// Refuses cross-site request forgery on the dashboard: a request that may change state (any method but GET, HEAD,
/// OPTIONS) must come from the dashboard's own origin and carry its antiforgery token, else 403.
/// </summary>
/// <remarks>
/// Two independent checks, because the dashboard trusts local requests without credentials: a page on
/// <c>http://evil.example</c> opened in a browser on the scheduler host could otherwise post to
/// <c>http://localhost:5080/hangfire/recurring/remove</c>, and the browser would reach it as a local request.
/// <list type="bullet">
/// <item>Origin: browsers name the page a write comes from in <c>Origin</c> (or, older ones, <c>Referer</c>); it must
/// name this host and port as the request's <c>Host</c> does. A request with neither header is no browser's
/// cross-site write and is left to the token check. A reverse proxy in front must keep the browser's <c>Host</c>.</item>
/// <item>Token: ASP.NET Core antiforgery (a cookie plus a matching request token). Hangfire's pages carry the token in
/// <c>&lt;meta name="csrf-token"&gt;</c> and their script sends it as a header with every post.</item>
/// </list>
/// </remarks>
public sealed class SameOriginGuard(IAntiforgery antiforgery)
{
    public async Task InvokeAsync(HttpContext http, RequestDelegate next)
    {
        if (!ChangesState(http.Request.Method)) { await next(http); return; }
        string? refusal = CrossOriginReason(http.Request);
        if (refusal is null && !await antiforgery.IsRequestValidAsync(http))
            refusal = "the antiforgery token is missing or invalid; reload the dashboard page and try again";
        if (refusal is null) { await next(http); return; }
        http.Response.StatusCode = StatusCodes.Status403Forbidden;
        await http.Response.WriteAsync("refused: " + refusal);
    }

    public static bool ChangesState(string method) =>
        !(HttpMethods.IsGet(method) || HttpMethods.IsHead(method) || HttpMethods.IsOptions(method));

    /// <summary>Why the request's Origin (or Referer, when Origin is absent) is not this dashboard; null when it is, or when neither is sent.</summary>
    public static string? CrossOriginReason(HttpRequest request)
    {
        string? origin = request.Headers.Origin.FirstOrDefault(), referer = request.Headers.Referer.FirstOrDefault();
        (string header, string? value) = origin is not null ? ("Origin", origin) : ("Referer", referer);
        if (value is null) return null;
        // "Origin: null" (sandboxed frames, some redirects) names no site: it cannot be shown to be ours.
        if (!Uri.TryCreate(value, UriKind.Absolute, out var source) || source.Scheme is not ("http" or "https"))
            return $"{header} '{value}' is not an http(s) address of this dashboard";
        // Read the Host with the source's scheme so that a default port written or left out compares equal.
        if (!request.Host.HasValue || !Uri.TryCreate($"{source.Scheme}://{request.Host.Value}", UriKind.Absolute, out var own)
            || !string.Equals(own.Authority, source.Authority, StringComparison.OrdinalIgnoreCase))
            return $"{header} '{source.GetLeftPart(UriPartial.Authority)}' is not this dashboard ({request.Host.Value})";
        return null;
    }
}
