using System.Text;
using Azure.Storage.Blobs;
using BatchRecs.Lake.Input;
using BatchRecs.Lake.Storage;

namespace BatchRecs.Lake.Tests.Storage;

/// <summary>The object store against a real Azurite blob service: listing, ranged reads, conditional writes, input discovery.</summary>
public sealed class ObjectStoreTests : IDisposable
{
    private readonly AzuriteServer _azurite = new();

    private AzureBlobStore Store(string container)
    {
        var client = new BlobContainerClient(_azurite.ConnectionString, container);
        client.CreateIfNotExists();
        return new AzureBlobStore(client);
    }

    private static MemoryStream Text(string s) => new(Encoding.UTF8.GetBytes(s));

    [Fact]
    public async Task Objects_are_listed_by_level_read_by_range_and_written_only_under_their_conditions()
    {
        var store = Store("ops");
        await store.WriteAsync("a/dt=2026-05-01/part-0.parquet", Text("0123456789abcdef"));
        await store.WriteAsync("a/dt=2026-05-02/part-0.parquet", Text("x"));
        await store.WriteAsync("a/top.txt", Text("t"));
        var level = await store.ListLevelAsync("a/");
        Assert.Equal(["a/top.txt"], level.Objects.Select(o => o.Name));
        Assert.Equal(["a/dt=2026-05-01/", "a/dt=2026-05-02/"], level.Folders.Order(StringComparer.Ordinal));
        Assert.Equal(3, (await store.ListAllAsync("a/")).Count);
        Assert.Equal("az://ops/a/top.txt", store.Describe("a/top.txt"));

        // A seekable stream: reading from the middle returns those bytes.
        await using (var s = await store.OpenReadAsync("a/dt=2026-05-01/part-0.parquet"))
        {
            Assert.True(s.CanSeek);
            Assert.Equal(16, s.Length);
            s.Seek(10, SeekOrigin.Begin);
            var buf = new byte[4];
            Assert.Equal(4, await s.ReadAsync(buf));
            Assert.Equal("abcd", Encoding.UTF8.GetString(buf));
        }

        // Create only if absent; replace only if unchanged.
        Assert.True(await store.TryCreateAsync("a/_LATEST", Text("run-1")));
        Assert.False(await store.TryCreateAsync("a/_LATEST", Text("run-2")));
        var latest = (await store.ListAllAsync("a/_LATEST")).Single();
        Assert.True(await store.TryReplaceAsync("a/_LATEST", Text("run-3"), latest.ETag));
        Assert.False(await store.TryReplaceAsync("a/_LATEST", Text("run-4"), latest.ETag)); // the ETag moved on
        await using (var s = await store.OpenReadAsync("a/_LATEST"))
            Assert.Equal("run-3", await new StreamReader(s).ReadToEndAsync());
        Assert.True(await store.DeleteAsync("a/_LATEST"));
        Assert.False(await store.DeleteAsync("a/_LATEST"));
        var missing = await Assert.ThrowsAsync<LakeInputException>(() => store.OpenReadAsync("a/none.parquet"));
        Assert.Equal("az://ops/a/none.parquet does not exist.", missing.Message);
    }

    [Fact]
    public async Task Input_listing_prunes_partitions_outside_the_window_without_listing_them_and_flags_bad_objects()
    {
        var store = Store("lake");
        foreach (var day in new[] { "2026-04-01", "2026-04-29", "2026-04-30" })
            await store.WriteAsync($"events/dt={day}/part-0.parquet", Text("not parquet, but never opened here"));
        await store.WriteAsync("events/dt=2026-04-30/_tmp.parquet", Text("in flight")); // hidden: skipped
        await store.WriteAsync("events/dt=2026-04-30/empty.parquet", new MemoryStream());
        await store.WriteAsync("events/dt=April/part-0.parquet", Text("malformed partition"));
        await store.WriteAsync("events/notes.txt", Text("not parquet: skipped"));
        Environment.SetEnvironmentVariable(AzureBlobStore.ConnectionStringVariable, _azurite.ConnectionString);
        try
        {
            var listing = await InputDirectory.ListAsync("az://lake/events", new ReadWindow(new DateOnly(2026, 5, 1), 7));
            Assert.Equal(1, listing.Pruned); // dt=2026-04-01, never listed
            Assert.Equal(["az://lake/events/dt=2026-04-29/part-0.parquet", "az://lake/events/dt=2026-04-30/empty.parquet",
                "az://lake/events/dt=2026-04-30/part-0.parquet", "az://lake/events/dt=April/part-0.parquet"], listing.Files.Select(f => f.Path));
            Assert.Equal(new DateOnly(2026, 4, 29), listing.Files[0].Day);
            Assert.Null(listing.Files[0].Problem);
            Assert.True(listing.Files[0].Length > 0 && listing.Files[0].ModifiedUtc is not null);
            Assert.Contains("az://lake/events/dt=2026-04-30/empty.parquet: 0 bytes", listing.Files[1].Problem);
            Assert.Contains("az://lake/events/dt=April/part-0.parquet: partition directory 'dt=April'", listing.Files[3].Problem);
        }
        finally
        {
            Environment.SetEnvironmentVariable(AzureBlobStore.ConnectionStringVariable, null);
        }
    }

    [Theory]
    [InlineData("az://A/x", "'A' is not a valid container name")]
    [InlineData("az://ab", "'ab' is not a valid container name")]
    [InlineData("az://lake/a/../b", "'.' and '..' are not allowed")]
    public void A_bad_location_is_refused_naming_it(string location, string message)
    {
        var e = Assert.Throws<LakeInputException>(() => LakeLocation.ParseAzure(location));
        Assert.Contains(message, e.Message);
        Assert.Contains(location, e.Message);
    }

    [Fact]
    public void Locations_split_into_container_and_folder_prefix()
    {
        Assert.Equal(("lake", "events/daily/"), LakeLocation.ParseAzure("az://lake/events/daily/"));
        Assert.Equal(("lake", ""), LakeLocation.ParseAzure("az://lake"));
        Assert.Equal("events/dt=2026-05-01/p.parquet", LakeLocation.ObjectName("az://lake/events/dt=2026-05-01/p.parquet"));
    }

    public void Dispose() => _azurite.Dispose();
}
