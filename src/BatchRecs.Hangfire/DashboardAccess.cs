using System.Net;
using System.Security.Cryptography;
using System.Text;
using Hangfire.Dashboard;
using Microsoft.AspNetCore.Http;

namespace BatchRecs.Hangfire;

/// <summary>
/// Who may see the dashboard: requests from this machine always; others only with the configured user and password
/// (HTTP Basic) or token (<c>Authorization: Bearer …</c> or <c>?token=…</c>). With neither configured, only local
/// requests are served. A loopback connection that carries a forwarding header (<c>X-Forwarded-For</c>,
/// <c>Forwarded</c>, <c>X-Real-IP</c>) was relayed by a proxy on this machine for someone else, so it is not local.
/// Secrets come from the environment (<c>BATCHRECS_DASHBOARD_USER</c>, <c>BATCHRECS_DASHBOARD_PASSWORD</c>,
/// <c>BATCHRECS_DASHBOARD_TOKEN</c>), never from files or logs.
/// </summary>
public sealed class DashboardAccess(string? user, string? password, string? token) : IDashboardAuthorizationFilter
{
    public static DashboardAccess FromEnvironment() => new(
        Environment.GetEnvironmentVariable("BATCHRECS_DASHBOARD_USER"),
        Environment.GetEnvironmentVariable("BATCHRECS_DASHBOARD_PASSWORD"),
        Environment.GetEnvironmentVariable("BATCHRECS_DASHBOARD_TOKEN"));

    public bool Authorize(DashboardContext context) => IsAllowed(context.GetHttpContext());

    private static readonly string[] ForwardingHeaders = ["X-Forwarded-For", "Forwarded", "X-Real-IP"];

    public bool IsAllowed(HttpContext http)
    {
        if (IsLocal(http)) return true;
        string auth = http.Request.Headers.Authorization.ToString();
        if (token is { Length: > 0 })
        {
            // Auth schemes are case-insensitive (RFC 9110 §11.1); the secrets are not.
            if (auth.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) && Same(auth[7..], token)) return true;
            if (http.Request.Query.TryGetValue("token", out var q) && Same(q.ToString(), token)) return true;
        }
        if (user is { Length: > 0 } && password is { Length: > 0 } && auth.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase))
        {
            try
            {
                var pair = Encoding.UTF8.GetString(Convert.FromBase64String(auth[6..]));
                int colon = pair.IndexOf(':');
                if (colon > 0 && Same(pair[..colon], user) && Same(pair[(colon + 1)..], password)) return true;
            }
            catch (FormatException) { }
        }
        return false;
    }

    /// <summary>A direct connection from this machine (an in-process test server has no remote address).</summary>
    public static bool IsLocal(HttpContext http)
    {
        var remote = http.Connection.RemoteIpAddress;
        if (remote is not null && !IPAddress.IsLoopback(remote)) return false;
        return !ForwardingHeaders.Any(h => http.Request.Headers.ContainsKey(h));
    }

    private static bool Same(string a, string b) =>
        CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(a), Encoding.UTF8.GetBytes(b));
}
