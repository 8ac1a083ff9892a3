using BatchRecs.Core.Errors;

namespace BatchRecs.Core.Tests.Errors;

public class ErrorClassTests
{
    public static TheoryData<Exception, bool, int> Cases() => new()
    {
        { new BadInputException("bad column"), true, ExitCodes.BadInput },
        { new PermanentFailureException("recall floor"), true, ExitCodes.Failure },
        { new TransientFailureException("lock held"), false, ExitCodes.Failure },
        // Not ours: a bug (ArgumentException from a kernel) or an I/O error is a plain failure and may be retried;
        // it is never reported as the user's bad input.
        { new ArgumentException("k must be positive", "k"), false, ExitCodes.Failure },
        { new FormatException("x"), false, ExitCodes.Failure },
        { new IOException("disk"), false, ExitCodes.Failure },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void The_class_comes_from_the_exception_itself(Exception e, bool permanent, int exitCode)
    {
        Assert.Equal(permanent, ErrorClass.IsPermanent(e));
        Assert.Equal(exitCode, ErrorClass.ExitCode(e));
    }

    [Fact]
    public void Wrappers_keep_the_class_and_the_cause_of_the_inner_exception()
    {
        var inner = new BadInputException("user_id of part-3.parquet, row 7, is 630.5");
        var wrapped = new InvalidOperationException("Background job creation failed", new AggregateException(new IOException("x"), inner));
        Assert.True(ErrorClass.IsPermanent(wrapped));
        Assert.Equal(ExitCodes.BadInput, ErrorClass.ExitCode(wrapped));
        Assert.Equal(inner.Message, ErrorClass.Describe(wrapped));
    }

    private sealed class RefusedLogin() : System.Data.Common.DbException("password authentication failed for user \"batchrecs\"")
    {
        public override string SqlState => "28P01";
    }

    [Fact]
    public void A_refused_database_login_is_a_setting_to_fix_not_a_failure_to_retry()
    {
        var e = new InvalidOperationException("Background job creation failed", new RefusedLogin());
        Assert.True(ErrorClass.IsPermanent(e));
        Assert.Equal(ExitCodes.BadInput, ErrorClass.ExitCode(e));
        Assert.StartsWith("password authentication failed", ErrorClass.Describe(e));
    }

    [Fact]
    public void A_foreign_wrapper_is_described_by_its_innermost_cause()
    {
        var e = new InvalidOperationException("Background job creation failed", new Exception("password authentication failed for user \"x\""));
        Assert.Contains("password authentication failed", ErrorClass.Describe(e));
    }
}
