using BatchRecs.Engine.Pipeline;
using BatchRecs.Engine.Settings;
using BatchRecs.Lake.Input;

namespace BatchRecs.Cli.Commands;

/// <summary>Maps failures to exit codes: 2 for bad input or settings (fix and re-run), 1 for anything else.</summary>
internal static class CliErrors
{
    public const int BadInput = 2, Failure = 1, Rejected = 3;

    public static async Task<int> Guard(Func<Task<int>> body)
    {
        try { return await body(); }
        catch (Exception e) when (e is SettingsException or LakeInputException or ArgumentException or FormatException)
        {
            await Console.Error.WriteLineAsync("error: " + e.Message);
            return BadInput;
        }
        catch (QualityGateException e)
        {
            await Console.Error.WriteLineAsync(e.Message);
            return Rejected;
        }
        catch (OperationCanceledException)
        {
            await Console.Error.WriteLineAsync("cancelled.");
            return Failure;
        }
        catch (Exception e)
        {
            await Console.Error.WriteLineAsync($"error: {e.Message}\n{e}");
            return Failure;
        }
    }
}
