using System.Text.Json;

namespace BatchRecs.Notebooks.Tests;

/// <summary>The runner itself: a failing cell, an unknown package and a mismatched version are reported, naming the cell.</summary>
public sealed class NotebookRunnerTests
{
    private static string Write(TempDirectory dir, params string[] cells)
    {
        var nb = new
        {
            cells = cells.Select(c => new { cell_type = "code", execution_count = (int?)null, metadata = new { }, outputs = Array.Empty<object>(), source = new[] { c } }),
            metadata = new { kernelspec = new { display_name = ".NET (C#)", language = "C#", name = ".net-csharp" }, language_info = new { name = "C#" } },
            nbformat = 4,
            nbformat_minor = 5,
        };
        string path = dir.Sub("t.ipynb");
        File.WriteAllText(path, JsonSerializer.Serialize(nb));
        return path;
    }

    private static NotebookRunner Runner(TempDirectory dir) => new()
    {
        WorkingDirectory = dir.Path,
        ProvidedPackages = [new("Some.Package", "1.2.3", [])],
    };

    [Fact]
    public async Task A_throwing_cell_fails_and_later_cells_do_not_run()
    {
        using var dir = new TempDirectory();
        var cells = await Runner(dir).RunAsync(Write(dir, "var x = 1 + 1;", "throw new InvalidOperationException(\"boom\");", "x"));
        Assert.Equal(2, cells.Count);
        Assert.False(cells[0].Failed);
        Assert.True(cells[1].Failed);
        Assert.Equal(2, cells[1].Index);
        Assert.Contains("boom", cells[1].Error);
    }

    [Fact]
    public async Task A_compile_error_fails_the_cell()
    {
        using var dir = new TempDirectory();
        var cells = await Runner(dir).RunAsync(Write(dir, "int y = \"text\";"));
        Assert.True(Assert.Single(cells).Failed);
    }

    [Theory]
    [InlineData("#r \"nuget: Other.Package, 1.0.0\"", "does not provide 'Other.Package'")]
    [InlineData("#r \"nuget: Some.Package, 9.9.9\"", "uses Some.Package 1.2.3")]
    public async Task Nuget_references_must_match_what_the_runner_provides(string directive, string message)
    {
        using var dir = new TempDirectory();
        var cells = await Runner(dir).RunAsync(Write(dir, directive));
        Assert.Contains(message, Assert.Single(cells).Error);
    }

    [Fact]
    public async Task A_provided_package_and_a_return_value_pass()
    {
        using var dir = new TempDirectory();
        var cells = await Runner(dir).RunAsync(Write(dir, "#r \"nuget: Some.Package, 1.2.3\"\nvar z = 6 * 7;", "z"));
        Assert.All(cells, c => Assert.False(c.Failed, c.Error));
        Assert.Contains("42", cells[1].Outputs.Single());
    }
}
