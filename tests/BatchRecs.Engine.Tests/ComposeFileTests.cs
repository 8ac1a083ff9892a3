using System.Text.Json;
using System.Text.RegularExpressions;
using BatchRecs.Engine.Settings;
using YamlDotNet.RepresentationModel;

namespace BatchRecs.Engine.Tests;

/// <summary>
/// docker-compose.yml cannot run on the build machines (no Docker engine), so its structure is checked instead:
/// the services exist, every command is a real <c>batchrecs</c> subcommand whose options the CLI accepts (asked of
/// the real CLI with <c>--help</c>), health checks and a shared lake volume are there, the job files it mounts
/// point into its volumes, the image can start the CLI, and no secret is written into the file.
/// </summary>
public class ComposeFileTests
{
    private static readonly string Root = FindRoot();
    private static readonly string ComposePath = Path.Combine(Root, "docker-compose.yml");
    private static readonly string[] BatchRecsServices = ["scheduler", "worker-1", "worker-2", "dashboard"];

    private static YamlMappingNode Compose()
    {
        var yaml = new YamlStream();
        using var reader = new StringReader(File.ReadAllText(ComposePath));
        yaml.Load(reader);
        return (YamlMappingNode)yaml.Documents[0].RootNode;
    }

    /// <summary>A service with YAML merge keys (<c>&lt;&lt;: *anchor</c>) applied, as Compose applies them: the service's own keys win.</summary>
    private static Dictionary<string, YamlNode> Service(string name)
    {
        var services = (YamlMappingNode)Compose()["services"];
        Assert.True(services.Children.ContainsKey(name), $"docker-compose.yml has no service '{name}'.");
        var result = new Dictionary<string, YamlNode>(StringComparer.Ordinal);
        foreach (var (k, v) in (YamlMappingNode)services[name])
        {
            if (k.ToString() == "<<")
                foreach (var (mk, mv) in (YamlMappingNode)v) result.TryAdd(mk.ToString(), mv);
            else result[k.ToString()] = v;
        }
        return result;
    }

    private static IEnumerable<string> ServiceNames() => ((YamlMappingNode)Compose()["services"]).Children.Keys.Select(k => k.ToString());

    private static List<string> Command(string service) => Service(service)["command"] switch
    {
        YamlSequenceNode seq => seq.Children.Select(c => c.ToString()).ToList(),
        YamlScalarNode s => s.Value!.Split(' ', StringSplitOptions.RemoveEmptyEntries).ToList(),
        var n => throw new InvalidOperationException($"{service}: unexpected command node {n.NodeType}"),
    };

    private static Dictionary<string, string> Environment(string service) =>
        Service(service).TryGetValue("environment", out var env)
            ? ((YamlMappingNode)env).Children.ToDictionary(kv => kv.Key.ToString(), kv => kv.Value.ToString(), StringComparer.Ordinal)
            : [];

    /// <summary>(volume or host path, container path) of each mount.</summary>
    private static List<(string Source, string Target)> Volumes(string service) =>
        ((YamlSequenceNode)Service(service)["volumes"]).Children.Select(v => v.ToString().Split(':')).Select(p => (p[0], p[1])).ToList();

    [Fact]
    public void The_header_says_it_was_not_run()
    {
        var header = File.ReadLines(ComposePath).TakeWhile(l => l.StartsWith('#')).ToList();
        Assert.Contains(header, l => l.Contains("Not run", StringComparison.Ordinal));
    }

    [Fact]
    public void The_five_services_exist()
    {
        Assert.Equal(["dashboard", "postgres", "scheduler", "worker-1", "worker-2"], ServiceNames().Order(StringComparer.Ordinal));
        Assert.StartsWith("postgres:", Service("postgres")["image"].ToString());
        foreach (var s in BatchRecsServices) Assert.Equal("batchrecs:latest", Service(s)["image"].ToString());
    }

    [Fact]
    public async Task Every_command_is_a_batchrecs_subcommand_and_its_options_are_accepted()
    {
        var help = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var service in BatchRecsServices)
        {
            var command = Command(service);
            Assert.NotEmpty(command);
            string sub = command[0];
            if (!help.TryGetValue(sub, out var text))
            {
                var r = await CliProcess.RunAsync(sub, "--help");
                Assert.True(r.ExitCode == 0, $"{service}: `batchrecs {sub} --help` exited with {r.ExitCode}; is '{sub}' a batchrecs command?\n{r.StdErr}");
                Assert.Contains($"batchrecs {sub}", r.StdOut);
                help[sub] = text = r.StdOut;
            }
            foreach (var option in command.Where(t => t.StartsWith("--", StringComparison.Ordinal)))
                Assert.True(Regex.IsMatch(text, $@"(^|[\s,]){Regex.Escape(option)}([\s,=<]|$)", RegexOptions.Multiline),
                    $"{service}: `batchrecs {sub}` has no option {option}; its help:\n{text}");
        }
        Assert.Equal(["dashboard", "scheduler", "worker"], help.Keys.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Worker_queues_are_the_queues_work_is_enqueued_on()
    {
        foreach (var worker in new[] { "worker-1", "worker-2" })
        {
            var cmd = Command(worker);
            var queues = cmd.SkipWhile(t => t != "--queues").Skip(1).TakeWhile(t => !t.StartsWith("--", StringComparison.Ordinal)).ToList();
            Assert.Equal([Hangfire.NightlyJobs.Queue, Hangfire.Distributed.BlockTasks.Queue], queues);
        }
    }

    [Fact]
    public void Health_checks_gate_startup_and_watch_the_servers()
    {
        foreach (var s in new[] { "postgres", "dashboard" })
        {
            Assert.True(Service(s).ContainsKey("healthcheck"), $"{s} has no healthcheck");
            var test = ((YamlSequenceNode)((YamlMappingNode)Service(s)["healthcheck"])["test"]).Children.Select(c => c.ToString()).ToList();
            Assert.Contains(test[0], new[] { "CMD", "CMD-SHELL" });
        }
        Assert.Contains("pg_isready", ((YamlMappingNode)Service("postgres")["healthcheck"])["test"].ToString());
        string dashboardCheck = ((YamlMappingNode)Service("dashboard")["healthcheck"])["test"].ToString();
        string port = Command("dashboard").SkipWhile(t => t != "--port").ElementAt(1);
        Assert.Contains($"127.0.0.1:{port}/health", dashboardCheck); // the endpoint DashboardHost maps

        // The check's tool must be in the image: the .NET runtime images ship neither curl nor wget.
        string dockerfile = File.ReadAllText(Path.Combine(Root, "Dockerfile"));
        foreach (var tool in new[] { "curl", "wget" })
            if (dashboardCheck.Contains(tool + " ", StringComparison.Ordinal))
                Assert.Matches($@"apt-get install[^\n]*\b{tool}\b", dockerfile);

        foreach (var s in BatchRecsServices)
        {
            var dependsOn = (YamlMappingNode)Service(s)["depends_on"];
            Assert.Equal("service_healthy", ((YamlMappingNode)dependsOn["postgres"])["condition"].ToString());
            Assert.Equal("unless-stopped", Service(s)["restart"].ToString());
        }
    }

    [Fact]
    public void The_lake_is_one_shared_volume()
    {
        var volumes = ((YamlMappingNode)Compose()["volumes"]).Children.Keys.Select(k => k.ToString()).ToList();
        Assert.Contains("lake", volumes);
        foreach (var s in BatchRecsServices)
            Assert.Contains(("lake", "/lake"), Volumes(s));
        foreach (var s in new[] { "worker-1", "worker-2", "dashboard" })
            Assert.Equal("/lake", Command(s).SkipWhile(t => t != "--lake").ElementAt(1));
    }

    [Fact]
    public void The_scheduled_jobs_read_and_write_the_mounted_volumes()
    {
        string jobsDir = Command("scheduler").SkipWhile(t => t != "--jobs").ElementAt(1);
        foreach (var s in BatchRecsServices)
        {
            var mounts = Volumes(s);
            var jobsMount = mounts.Single(m => m.Target == jobsDir);
            string hostJobs = Path.GetFullPath(Path.Combine(Root, jobsMount.Source));
            var files = Directory.GetFiles(hostJobs, "*.json").Where(f => !f.EndsWith(".schema.json", StringComparison.Ordinal)).ToList();
            Assert.NotEmpty(files);
            foreach (var f in files)
            {
                var job = JobDefinition.Load(f);
                // Paths in the container: relative ones resolve against the job file's folder there.
                string InContainer(string key)
                {
                    using var doc = JsonDocument.Parse(File.ReadAllText(f));
                    string p = doc.RootElement.GetProperty(key).GetString() ?? "";
                    Assert.True(p.StartsWith('/'), $"{f}: '{key}' must be an absolute container path (a mounted volume), not '{p}'.");
                    return p;
                }
                Assert.Contains(mounts, m => m.Target == InContainer("input"));
                Assert.Contains(mounts, m => m.Target == InContainer("lake"));
                Assert.NotNull(job.Schedule);
            }
        }
    }

    [Fact]
    public void No_secret_is_written_into_the_file()
    {
        var secret = new Regex("PASSWORD|TOKEN|SECRET|PASS$", RegexOptions.IgnoreCase);
        foreach (var s in ServiceNames())
            foreach (var (key, value) in Environment(s))
            {
                Assert.DoesNotContain("password=", value, StringComparison.OrdinalIgnoreCase); // connection strings get PGPASSWORD
                if (!secret.IsMatch(key)) continue;
                var m = Regex.Match(value, @"^\$\{(?<var>[A-Z0-9_]+)(:-(?<default>[^}]*))?\}$");
                Assert.True(m.Success, $"{s}: {key} must come from the environment (${{VAR:-default}}), not a literal.");
                string def = m.Groups["default"].Value;
                // The only default is the documented try-it-out database password; tokens and dashboard passwords default to empty.
                Assert.True(def == "" || (def == "batchrecs" && m.Groups["var"].Value == "BATCHRECS_DB_PASSWORD"),
                    $"{s}: {key} defaults to a literal secret '{def}'.");
            }
        Assert.Contains("BATCHRECS_DB_PASSWORD", string.Join('\n', File.ReadLines(ComposePath).TakeWhile(l => l.StartsWith('#'))));
    }

    [Fact]
    public void The_image_runs_on_the_runtime_the_cli_needs()
    {
        // batchrecs.runtimeconfig.json beside the tests names the shared frameworks the CLI needs.
        using var config = JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "batchrecs.runtimeconfig.json")));
        var options = config.RootElement.GetProperty("runtimeOptions");
        var frameworks = (options.TryGetProperty("frameworks", out var fs) ? fs.EnumerateArray() : new[] { options.GetProperty("framework") }.AsEnumerable())
            .Select(f => f.GetProperty("name").GetString()).ToList();
        string runtimeImage = File.ReadLines(Path.Combine(Root, "Dockerfile")).Last(l => l.StartsWith("FROM ", StringComparison.Ordinal));
        if (frameworks.Contains("Microsoft.AspNetCore.App"))
            Assert.Contains("mcr.microsoft.com/dotnet/aspnet:", runtimeImage);
        Assert.Contains(":10.0", runtimeImage);
    }

    private static string FindRoot()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, "BatchRecs.sln"))) return d.FullName;
        throw new InvalidOperationException("BatchRecs.sln not found above the test binaries.");
    }
}
