using BatchRecs.Core.Errors;

namespace BatchRecs.Cli.Commands;

/// <summary>
/// Ends a command: the exit code comes from the failure's own class (<see cref="ErrorClass"/>), the same one the
/// scheduler's retry filter reads. Bad input and rejections print their message only; other failures add the trace.
/// </summary>
public static class CliErrors
{
    public static async Task<int> Guard(Func<Task<int>> body)
    {
        try { return await body(); }
        catch (OperationCanceledException)
        {
            await Console.Error.WriteLineAsync("cancelled.");
            return ExitCodes.Failure;
        }
        catch (Exception e)
        {
            int code = ErrorClass.ExitCode(e);
            string message = ErrorClass.Describe(e);
            await Console.Error.WriteLineAsync(code switch
            {
                ExitCodes.Rejected => message,
                ExitCodes.BadInput => "error: " + message,
                _ when ErrorClass.Find(e) is not null => "error: " + message,
                _ => $"error: {message}\n{e}",
            });
            return code;
        }
    }
}
