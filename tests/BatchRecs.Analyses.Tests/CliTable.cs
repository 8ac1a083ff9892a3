namespace BatchRecs.Analyses.Tests;

/// <summary>A table as <c>batchrecs sql</c> prints it: a header line, a rule, rows (cells separated by " | "), "(N rows)".</summary>
public sealed record CliTable(IReadOnlyList<string> Columns, IReadOnlyList<string[]> Rows)
{
    public static CliTable Parse(string stdout)
    {
        var lines = stdout.Split('\n').Select(l => l.TrimEnd('\r')).Where(l => l.Length > 0).ToList();
        Assert.True(lines.Count >= 3, $"not a table:\n{stdout}");
        static string[] Cells(string line) => line.Split(" | ").Select(c => c.Trim()).ToArray();
        int end = lines.FindLastIndex(l => l.StartsWith('(') && l.Contains(" rows"));
        Assert.True(end >= 2, $"no row count line:\n{stdout}");
        return new CliTable(Cells(lines[0]), lines.Skip(2).Take(end - 2).Select(Cells).ToList());
    }

    public string Cell(int row, string column) => Rows[row][Columns.ToList().IndexOf(column)];
}
