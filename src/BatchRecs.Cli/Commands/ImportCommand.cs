using BatchRecs.Core.Errors;
using System.CommandLine;
using BatchRecs.Lake.Import;
using BatchRecs.Lake.Storage;

namespace BatchRecs.Cli.Commands;

internal static class ImportCommand
{
    public static Command Create()
    {
        var path = new Argument<string>("PATH") { Description = "a MovieLens folder, or its u.data / ratings.csv / ratings.dat" };
        var outOpt = new Option<string>("--out") { Description = "output directory", Required = true };
        var movielens = new Command("movielens", "Import MovieLens ratings (ml-100k u.data, ml-latest ratings.csv, ml-1m ratings.dat).") { path, outOpt };
        movielens.SetAction((p, ct) => CliErrors.Guard(async () =>
        {
            var r = await StagedOutput.WriteAsync(p.GetValue(outOpt)!, dir => RatingImporter.ImportMovieLensAsync(p.GetValue(path)!, dir, ct), ct);
            Print(r, p.GetValue(outOpt)!);
            return 0;
        }));

        var file = new Argument<string>("FILE") { Description = "a delimited text file with a header line" };
        var out2 = new Option<string>("--out") { Description = "output directory", Required = true };
        var user = new Option<string>("--user") { Description = "user id column", Required = true };
        var item = new Option<string>("--item") { Description = "item id column", Required = true };
        var time = new Option<string?>("--time") { Description = "event time column (epoch seconds or ISO-8601)" };
        var date = new Option<string?>("--date") { Description = "the day of every event, for a file without a time column (instead of --time), e.g. 2011-05-01" };
        var value = new Option<string?>("--value") { Description = "value column (rating, count), optional" };
        var sep = new Option<string>("--sep") { Description = "field separator (one character; \\t for tab)", DefaultValueFactory = _ => "," };
        var csv = new Command("csv", "Import any delimited rating file into the Parquet input contract.") { file, out2, user, item, time, date, value, sep };
        csv.SetAction((p, ct) => CliErrors.Guard(async () =>
        {
            string s = p.GetValue(sep)!;
            if (s == "\\t" || s == "tab") s = "\t";
            if (s.Length != 1) throw new BadInputException($"--sep must be one character (got '{s}').");
            string? timeColumn = p.GetValue(time), day = p.GetValue(date);
            if ((timeColumn is null) == (day is null)) throw new BadInputException("give exactly one of --time (the event time column) and --date (the day of every event, for a file without times).");
            DateTimeOffset? at = null;
            if (day is not null)
                at = DateOnly.TryParseExact(day, "yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.None, out var d)
                    ? new DateTimeOffset(d.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero)
                    : throw new BadInputException($"--date must be a day as YYYY-MM-DD (got '{day}').");
            var layout = new DelimitedLayout(s[0], true, p.GetValue(user)!, p.GetValue(item)!, timeColumn, p.GetValue(value), "event", DefaultTime: at);
            var r = await StagedOutput.WriteAsync(p.GetValue(out2)!, dir => RatingImporter.ImportDelimitedAsync(p.GetValue(file)!, dir, layout, ct), ct);
            Print(r, p.GetValue(out2)!);
            return 0;
        }));
        var coatDir = new Argument<string>("DIR") { Description = "the Coat folder (train.ascii, test.ascii)" };
        var out3 = new Option<string>("--out") { Description = "output directory", Required = true };
        var coat = new Command("coat",
            "Import Coat (Schnabel et al. 2016): every rating of train.ascii (self-selected items) becomes an interaction — user_id = 0-based row, " +
            "item_id = 0-based column, value = the rating 1–5 (all ratings are kept; the unbiased bench takes ratings ≥ 4 as positives), " +
            "all at 2016-01-01T00:00Z (Coat has no times: run with --run-date 2016-01-02 or later); the random-item ratings of test.ascii go to " +
            "OUT/_coat/test.parquet (user_id, item_id, rating), which is not read as interactions.") { coatDir, out3 };
        coat.SetAction((p, ct) => CliErrors.Guard(async () =>
        {
            var r = await StagedOutput.WriteAsync(p.GetValue(out3)!, dir => CoatImporter.ImportAsync(p.GetValue(coatDir)!, dir, ct), ct);
            Print(r.Train, p.GetValue(out3)!);
            Console.WriteLine($"{r.TestRatings:N0} random test ratings of {r.Users} users × {r.Items} items into {StagedOutput.Shown(p.GetValue(out3)!)}/{CoatImporter.TestRelativePath}");
            return 0;
        }));
        return new Command("import", "Turn public rating files into the Parquet input contract, partitioned by day.") { movielens, csv, coat };
    }

    private static void Print(ImportResult r, string outDir) =>
        Console.WriteLine($"imported {r.Rows:N0} rows into {r.Partitions} daily partitions ({(r.StringIds ? "STRING" : "INT64")} ids) under {StagedOutput.Shown(outDir)}" +
            (r.Items is { } n ? $"; {n:N0} items' titles and genres into {StagedOutput.Shown(outDir)}/{BatchRecs.Lake.Import.ItemMetadata.DefaultRelativePath}" : ""));
}
