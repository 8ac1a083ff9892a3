using System.Text;
using Microsoft.DotNet.Interactive;
using Microsoft.DotNet.Interactive.Commands;
using Microsoft.DotNet.Interactive.CSharp;
using Microsoft.DotNet.Interactive.Documents;
using Microsoft.DotNet.Interactive.Documents.Jupyter;
using Microsoft.DotNet.Interactive.Events;
using Microsoft.DotNet.Interactive.Formatting;

namespace BatchRecs.Notebooks.Tests;

/// <summary>
/// Executes the code cells of a Jupyter notebook, in order, in one in-process C# kernel, as a notebook front end would.
/// </summary>
/// <remarks>
/// The kernel has no network and no NuGet directive, so a cell's <c>#r "nuget: NAME, VERSION"</c> lines are checked
/// against the assemblies the runner was given (<see cref="ProvidedPackages"/>) and then dropped: a notebook that asks
/// for a package the runner does not provide fails, naming the package. Markdown cells are skipped.
/// </remarks>
public sealed class NotebookRunner
{
    /// <summary>A NuGet package a notebook may <c>#r</c>: its version must match, and these assembly files stand in for it.</summary>
    public sealed record ProvidedPackage(string Id, string Version, IReadOnlyList<string> AssemblyPaths);

    public required IReadOnlyList<ProvidedPackage> ProvidedPackages { get; init; }

    /// <summary>Working directory of the kernel process while cells run (a notebook's relative paths resolve from it).</summary>
    public required string WorkingDirectory { get; init; }

    public sealed record CellResult(int Index, string Code, string? Error, IReadOnlyList<string> Outputs)
    {
        public bool Failed => Error is not null;
    }

    public static IReadOnlyList<InteractiveDocumentElement> CodeCells(string notebookPath)
    {
        var kernels = new KernelInfoCollection
        {
            new Microsoft.DotNet.Interactive.Documents.KernelInfo("csharp", languageName: "C#", aliases: ["c#", "C#", "cs"]),
        };
        var doc = Notebook.Parse(File.ReadAllText(notebookPath), kernels);
        return doc.Elements.Where(e => e.KernelName is "csharp" or "c#" or "C#").ToList();
    }

    /// <summary>Runs every code cell; stops at the first failure (later cells would only fail for the same reason).</summary>
    public async Task<IReadOnlyList<CellResult>> RunAsync(string notebookPath, CancellationToken ct = default)
    {
        var results = new List<CellResult>();
        // As a notebook front end's C# kernel: display() and friends available.
        using var kernel = new CSharpKernel().UseKernelHelpers();
        kernel.AddAssemblyReferences(ProvidedPackages.SelectMany(p => p.AssemblyPaths).Distinct());
        string previous = Directory.GetCurrentDirectory();
        Directory.SetCurrentDirectory(WorkingDirectory);
        try
        {
            var cells = CodeCells(notebookPath);
            for (int i = 0; i < cells.Count; i++)
            {
                ct.ThrowIfCancellationRequested();
                var (code, problem) = StripNugetDirectives(cells[i].Contents);
                if (problem is not null)
                {
                    results.Add(new CellResult(i + 1, cells[i].Contents, problem, []));
                    break;
                }
                var result = await kernel.SendAsync(new SubmitCode(code), ct);
                var outputs = new List<string>();
                string? error = null;
                foreach (var e in result.Events)
                {
                    switch (e)
                    {
                        case CommandFailed f: error = f.Message + (f.Exception is { } x ? Environment.NewLine + x : ""); break;
                        case ReturnValueProduced r: outputs.Add(Text(r.FormattedValues)); break;
                        case DisplayEvent d: outputs.Add(Text(d.FormattedValues)); break;
                    }
                }
                results.Add(new CellResult(i + 1, cells[i].Contents, error, outputs));
                if (error is not null) break;
            }
        }
        finally
        {
            Directory.SetCurrentDirectory(previous);
        }
        return results;
    }

    private static string Text(IReadOnlyCollection<FormattedValue> values) =>
        values.FirstOrDefault(v => v.MimeType == "text/plain")?.Value ?? values.FirstOrDefault()?.Value ?? "";

    /// <summary>The cell without its <c>#r "nuget: ..."</c> lines, or why one of them cannot be satisfied.</summary>
    private (string Code, string? Problem) StripNugetDirectives(string cell)
    {
        var kept = new StringBuilder();
        foreach (var line in cell.Split('\n'))
        {
            var t = line.Trim();
            if (t.StartsWith("#r \"nuget:", StringComparison.Ordinal))
            {
                string spec = t["#r \"nuget:".Length..].TrimEnd('"', ' ', '\r').Trim();
                string id = spec.Split(',')[0].Trim();
                string? version = spec.Contains(',') ? spec[(spec.IndexOf(',') + 1)..].Trim() : null;
                var provided = ProvidedPackages.FirstOrDefault(p => p.Id.Equals(id, StringComparison.OrdinalIgnoreCase));
                if (provided is null)
                    return ("", $"{t}: the test runner does not provide '{id}' (it provides {string.Join(", ", ProvidedPackages.Select(p => p.Id))}).");
                if (version != provided.Version)
                    return ("", $"{t}: the repository uses {id} {provided.Version} (Directory.Packages.props); pin the notebook to it.");
                kept.Append("// provided by the test runner: ").AppendLine(t);
                continue;
            }
            kept.Append(line).Append('\n');
        }
        return (kept.ToString(), null);
    }
}
