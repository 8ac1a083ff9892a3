using System.Diagnostics;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace BatchRecs.Analyses.Tests;

/// <summary>
/// The Jupyter notebooks in <c>notebooks/</c> are valid nbformat 4 with a Python kernel, load only SQL files that exist
/// (with parameters those files declare), hold no SQL of their own, and their code cells compile as Python (Debian's
/// python3). Python's duckdb package cannot be installed on the build machines (no PyPI), so the notebooks are not
/// executed here; the SQL they load is, by <see cref="AnalysisTests"/>.
/// </summary>
public sealed partial class NotebookTests
{
    private static string Folder => Path.Combine(DemoLakeFixture.RepositoryRoot, "notebooks");

    private static IReadOnlyList<string> NotebookNames() =>
        Directory.GetFiles(Folder, "*.ipynb").Select(Path.GetFileName).Order(StringComparer.Ordinal).ToList()!;

    public static TheoryData<string> Notebooks() => new(NotebookNames());

    private static JsonElement Load(string name) => JsonDocument.Parse(File.ReadAllText(Path.Combine(Folder, name))).RootElement;

    private static IEnumerable<JsonElement> Cells(JsonElement nb, string kind) =>
        nb.GetProperty("cells").EnumerateArray().Where(c => c.GetProperty("cell_type").GetString() == kind);

    private static string Source(JsonElement cell) => cell.GetProperty("source") switch
    {
        { ValueKind: JsonValueKind.String } s => s.GetString()!,
        var lines => string.Concat(lines.EnumerateArray().Select(l => l.GetString())),
    };

    private static string Code(string name) => string.Join("\n\n", Cells(Load(name), "code").Select(Source));

    [Fact]
    public void Every_analysis_is_in_a_notebook_and_no_NET_Interactive_notebook_is_left()
    {
        var names = NotebookNames();
        Assert.True(names.Count >= 4, $"expected the analyst notebooks in notebooks/, found: {string.Join(", ", names)}");
        var loaded = names.SelectMany(n => AnalysisCalls(Code(n)).Select(c => c.Analysis)).ToHashSet();
        var unused = AnalysisFile.Names().Where(a => !loaded.Contains(a)).ToList();
        Assert.True(unused.Count == 0, $"no notebook loads {string.Join(", ", unused)}");
        foreach (var name in names)
            Assert.DoesNotContain("#r \"nuget:", Code(name));
    }

    [Theory]
    [MemberData(nameof(Notebooks))]
    public void It_is_nbformat_4_with_a_python_kernel(string name)
    {
        var nb = Load(name);
        Assert.Equal(4, nb.GetProperty("nbformat").GetInt32());
        int minor = nb.GetProperty("nbformat_minor").GetInt32();
        Assert.InRange(minor, 0, 5);
        var kernel = nb.GetProperty("metadata").GetProperty("kernelspec");
        Assert.Equal("python3", kernel.GetProperty("name").GetString());
        Assert.Equal("python", kernel.GetProperty("language").GetString());
        Assert.False(string.IsNullOrEmpty(kernel.GetProperty("display_name").GetString()));
        Assert.Equal("python", nb.GetProperty("metadata").GetProperty("language_info").GetProperty("name").GetString());

        var ids = new HashSet<string>(StringComparer.Ordinal);
        foreach (var cell in nb.GetProperty("cells").EnumerateArray())
        {
            string kind = cell.GetProperty("cell_type").GetString()!;
            Assert.Contains(kind, new[] { "markdown", "code", "raw" });
            Assert.Equal(JsonValueKind.Object, cell.GetProperty("metadata").ValueKind);
            Assert.True(cell.GetProperty("source").ValueKind is JsonValueKind.String or JsonValueKind.Array);
            if (minor >= 5)
            {
                // nbformat 4.5: every cell has a unique id of 1-64 letters, digits, '-' or '_'.
                string id = cell.GetProperty("id").GetString()!;
                Assert.Matches("^[a-zA-Z0-9_-]{1,64}$", id);
                Assert.True(ids.Add(id), $"{name}: cell id {id} is not unique");
            }
            if (kind == "code")
            {
                Assert.Equal(JsonValueKind.Array, cell.GetProperty("outputs").ValueKind);
                Assert.True(cell.GetProperty("execution_count").ValueKind is JsonValueKind.Null or JsonValueKind.Number);
            }
            else Assert.False(cell.TryGetProperty("outputs", out _), $"{name}: a {kind} cell has outputs");
        }
        Assert.True(Cells(nb, "code").Count() >= 2, $"{name} has fewer than 2 code cells");
    }

    [Theory]
    [MemberData(nameof(Notebooks))]
    public void The_first_cell_says_what_to_install_and_how_to_point_it_at_a_lake(string name)
    {
        string first = Source(Load(name).GetProperty("cells")[0]);
        Assert.Contains("pip install duckdb matplotlib pandas", first);
        Assert.Contains("BATCHRECS_LAKE", first);
    }

    [Theory]
    [MemberData(nameof(Notebooks))]
    public void It_loads_existing_SQL_files_with_their_declared_parameters_and_holds_no_SQL(string name)
    {
        string code = Code(name);
        var calls = AnalysisCalls(code);
        Assert.NotEmpty(calls);
        foreach (var (analysis, parameters) in calls)
        {
            Assert.True(File.Exists(Path.Combine(AnalysisFile.Folder, analysis + ".sql")), $"{name} loads analyses/{analysis}.sql, which does not exist");
            var declared = AnalysisFile.Load(analysis).Params;
            Assert.All(parameters, p => Assert.True(declared.Contains(p), $"{name} passes {p} to {analysis}.sql, which declares {string.Join(", ", declared)}"));
        }
        Assert.DoesNotMatch(SqlInCode(), code);
        Assert.Contains("from batchrecs_sql import Lake", code);
    }

    [Theory]
    [MemberData(nameof(Notebooks))]
    public async Task Its_code_cells_compile_as_python(string name)
    {
        if (Python() is not { } python)
        {
            Console.WriteLine($"python3 is not installed: {name}'s code cells were not compiled.");
            return;
        }
        using var dir = new TempDirectory("batchrecs-notebook-py");
        string file = dir.Sub(Path.GetFileNameWithoutExtension(name).Replace('-', '_') + ".py");
        await File.WriteAllTextAsync(file, Code(name) + "\n");
        var (exit, output) = await Run(python, "-m", "py_compile", file);
        Assert.True(exit == 0, $"{name}: its code cells do not compile:\n{output}");
    }

    [Fact]
    public async Task The_helper_module_compiles_and_opens_the_catalog_read_only()
    {
        string helper = Path.Combine(Folder, "batchrecs_sql.py");
        string text = await File.ReadAllTextAsync(helper);
        // Every connect, on one line, is read-only.
        Assert.Matches(@"duckdb\.connect\(.*read_only=True\)", text);
        Assert.DoesNotMatch(@"duckdb\.connect\((?!.*read_only=True)", text);
        if (Python() is not { } python)
        {
            Console.WriteLine("python3 is not installed: notebooks/batchrecs_sql.py was not compiled.");
            return;
        }
        using var dir = new TempDirectory("batchrecs-notebook-py");
        string copy = dir.Sub("batchrecs_sql.py");
        File.Copy(helper, copy);
        var (exit, output) = await Run(python, "-m", "py_compile", copy);
        Assert.True(exit == 0, output);
    }

    [Fact]
    public async Task A_cell_that_does_not_compile_fails_the_check()
    {
        if (Python() is not { } python) return;
        using var dir = new TempDirectory("batchrecs-notebook-py");
        string file = dir.Sub("broken.py");
        await File.WriteAllTextAsync(file, "lake.run(\"exposure\"\n");
        Assert.NotEqual(0, (await Run(python, "-m", "py_compile", file)).Exit);
    }

    /// <summary><c>lake.run("name", key=value, …)</c> calls: the analysis and the keyword names passed at the call's top level.</summary>
    private static List<(string Analysis, List<string> Parameters)> AnalysisCalls(string code)
    {
        var calls = new List<(string, List<string>)>();
        foreach (Match m in RunCall().Matches(code))
        {
            int depth = 1, i = m.Index + m.Length;
            var args = new System.Text.StringBuilder();
            for (; i < code.Length && depth > 0; i++)
            {
                char c = code[i];
                if (c is '(' or '[' or '{') depth++;
                else if (c is ')' or ']' or '}') depth--;
                args.Append(depth == 1 ? c : ' ');
            }
            calls.Add((m.Groups[1].Value, Keyword().Matches(args.ToString()).Select(k => k.Groups[1].Value).ToList()));
        }
        return calls;
    }

    /// <summary>Debian's python3 when present, else any python3 on PATH, else null.</summary>
    private static string? Python()
    {
        if (File.Exists("/usr/bin/python3")) return "/usr/bin/python3";
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator))
            if (File.Exists(Path.Combine(dir, "python3"))) return Path.Combine(dir, "python3");
        return null;
    }

    private static async Task<(int Exit, string Output)> Run(string program, params string[] args)
    {
        var psi = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        await p.WaitForExitAsync();
        return (p.ExitCode, await stdout + await stderr);
    }

    [GeneratedRegex(@"\.run\(\s*[""']([A-Za-z0-9_]+)[""']")]
    private static partial Regex RunCall();

    [GeneratedRegex(@"(?:^|,)\s*([A-Za-z_][A-Za-z0-9_]*)\s*=(?!=)")]
    private static partial Regex Keyword();

    /// <summary>SQL written into a notebook instead of loaded from analyses/.</summary>
    [GeneratedRegex(@"(?i)\bselect\b|\bset\s+variable\b|\bread_parquet\b|\bgetvariable\b|\.sql\(|\.execute\(|duckdb\.")]
    private static partial Regex SqlInCode();
}
