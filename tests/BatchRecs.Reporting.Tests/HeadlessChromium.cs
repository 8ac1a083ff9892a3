using System.Diagnostics;

namespace BatchRecs.Reporting.Tests;

/// <summary>
/// Renders a local HTML file to a PNG with the real headless Chromium (Debian's <c>chromium</c>; .ci/run installs it),
/// offline: no first-run, sync, component updates or background networking.
/// </summary>
public static class HeadlessChromium
{
    public const string Executable = "/usr/bin/chromium";

    public static async Task ScreenshotAsync(string htmlPath, string pngPath, int width = 1400, int height = 3000)
    {
        if (!File.Exists(Executable))
            throw new InvalidOperationException($"{Executable} is missing: install Debian's 'chromium' package (.ci/run does) to run the browser check.");
        string profile = Path.Combine(Path.GetTempPath(), $"batchrecs-chromium-{Guid.NewGuid():N}");
        try
        {
            var psi = new ProcessStartInfo(Executable) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            foreach (var a in new[]
            {
                "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--hide-scrollbars", $"--user-data-dir={profile}",
                $"--screenshot={pngPath}", $"--window-size={width},{height}", new Uri(Path.GetFullPath(htmlPath)).AbsoluteUri,
            }) psi.ArgumentList.Add(a);
            using var p = Process.Start(psi)!;
            var stdout = p.StandardOutput.ReadToEndAsync();
            var stderr = p.StandardError.ReadToEndAsync();
            using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(2));
            try
            {
                await p.WaitForExitAsync(cts.Token);
            }
            catch (OperationCanceledException)
            {
                p.Kill(entireProcessTree: true);
                throw new TimeoutException($"chromium did not finish the screenshot of {htmlPath} in 2 minutes.");
            }
            if (p.ExitCode != 0 || !File.Exists(pngPath))
                throw new InvalidOperationException($"chromium exited {p.ExitCode} without a screenshot of {htmlPath}:\n{await stdout}\n{await stderr}");
        }
        finally
        {
            try { Directory.Delete(profile, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
    }
}
