using System.Text.RegularExpressions;

namespace BatchRecs.Engine.Tests;

/// <summary>
/// The systemd units of infra/systemd (systemd does not run on the build machines): one per role, each starting a
/// real batchrecs subcommand with options the CLI accepts, secrets only through the EnvironmentFile.
/// </summary>
public class SystemdUnitTests
{
    private static readonly string Dir = Path.Combine(FindRoot(), "infra", "systemd");

    private static Dictionary<string, List<string>> Keys(string unit)
    {
        var d = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        foreach (var line in File.ReadLines(Path.Combine(Dir, unit)).Select(l => l.Trim()).Where(l => l.Length > 0 && l[0] is not ('#' or ';' or '[')))
        {
            int eq = line.IndexOf('=');
            Assert.True(eq > 0, $"{unit}: '{line}' is not key=value.");
            (d.TryGetValue(line[..eq], out var list) ? list : d[line[..eq]] = []).Add(line[(eq + 1)..]);
        }
        return d;
    }

    [Theory]
    [InlineData("batchrecs-scheduler.service", "scheduler")]
    [InlineData("batchrecs-worker@.service", "worker")]
    [InlineData("batchrecs-dashboard.service", "dashboard")]
    public async Task Each_role_starts_a_real_subcommand_with_accepted_options(string unit, string subcommand)
    {
        var keys = Keys(unit);
        var exec = Assert.Single(keys["ExecStart"]).Split(' ', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("/usr/bin/dotnet", exec[0]);
        Assert.EndsWith("/batchrecs.dll", exec[1]);
        Assert.Equal(subcommand, exec[2]);
        var help = await CliProcess.RunAsync(subcommand, "--help");
        Assert.Equal(0, help.ExitCode);
        foreach (var option in exec.Where(t => t.StartsWith("--", StringComparison.Ordinal)))
            Assert.True(Regex.IsMatch(help.StdOut, $@"(^|[\s,]){Regex.Escape(option)}([\s,=<]|$)", RegexOptions.Multiline), $"{unit}: `batchrecs {subcommand}` has no option {option}.");
        // ${VAR} in ExecStart must be defined by the unit (Environment=) so it never expands to nothing.
        foreach (Match m in Regex.Matches(keys["ExecStart"][0], @"\$\{(\w+)\}"))
            Assert.Contains(keys.GetValueOrDefault("Environment") ?? [], e => e.StartsWith(m.Groups[1].Value + "=", StringComparison.Ordinal));

        Assert.Equal("/etc/batchrecs/batchrecs.env", Assert.Single(keys["EnvironmentFile"]));
        Assert.Equal("batchrecs", Assert.Single(keys["User"]));
        Assert.Contains("multi-user.target", keys["WantedBy"]);
        Assert.Equal("on-failure", Assert.Single(keys["Restart"]));
    }

    [Fact]
    public void No_secret_is_in_a_unit_and_the_example_environment_has_none_filled_in()
    {
        foreach (var unit in Directory.GetFiles(Dir, "*.service"))
            foreach (var e in Keys(Path.GetFileName(unit)).GetValueOrDefault("Environment") ?? [])
                Assert.DoesNotMatch("(?i)PASSWORD|TOKEN|SECRET", e);
        var example = File.ReadLines(Path.Combine(Dir, "batchrecs.env.example")).Where(l => !l.StartsWith('#') && l.Contains('=')).ToList();
        foreach (var name in new[] { "BATCHRECS_DB", "PGPASSWORD", "BATCHRECS_DASHBOARD_TOKEN" })
            Assert.Contains(example, l => l.StartsWith(name + "=", StringComparison.Ordinal));
        Assert.All(example.Where(l => Regex.IsMatch(l, "^[A-Z_]*(PASSWORD|TOKEN)=")), l => Assert.EndsWith("=", l));
        Assert.DoesNotContain("password=", example.Single(l => l.StartsWith("BATCHRECS_DB=", StringComparison.Ordinal)), StringComparison.OrdinalIgnoreCase);
    }

    private static string FindRoot()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, "BatchRecs.sln"))) return d.FullName;
        throw new InvalidOperationException("BatchRecs.sln not found above the test binaries.");
    }
}
