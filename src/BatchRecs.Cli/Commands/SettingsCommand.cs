using System.CommandLine;
using BatchRecs.Engine.Settings;

namespace BatchRecs.Cli.Commands;

/// <summary><c>batchrecs settings</c>: every setting key with its default and meaning (Markdown with --markdown).</summary>
internal static class SettingsCommand
{
    public static Command Create()
    {
        var markdown = new Option<bool>("--markdown") { Description = "print a Markdown table" };
        var schema = new Option<string?>("--write-schema") { Description = "rewrite the settings part of this job schema (jobs/job.schema.json) from the code" };
        var cmd = new Command("settings", "List every job setting (--set key=value, job file 'settings') with its default.") { markdown, schema };
        cmd.SetAction(p =>
        {
            if (p.GetValue(schema) is { } path)
            {
                JobSchema.Update(path);
                Console.WriteLine($"updated {path}");
                return 0;
            }
            if (p.GetValue(markdown))
            {
                Console.WriteLine("| key | default | meaning |");
                Console.WriteLine("|---|---|---|");
                foreach (var d in JobSettings.Definitions) Console.WriteLine($"| `{d.Key}` | {d.Default} | {d.Description} |");
                Console.WriteLine("| `event_weights.TYPE` | 1 | weight of an event_type (job file: \"event_weights\": {\"view\": 1, \"purchase\": 5}) |");
            }
            else
            {
                int w = JobSettings.Definitions.Max(d => d.Key.Length);
                foreach (var d in JobSettings.Definitions) Console.WriteLine($"{d.Key.PadRight(w)}  {d.Default,-12} {d.Description}");
            }
            return 0;
        });
        return cmd;
    }
}
