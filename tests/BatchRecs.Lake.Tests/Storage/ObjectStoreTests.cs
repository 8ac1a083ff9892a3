using System.Text;
using Azure.Storage.Blobs;
using BatchRecs.Lake.Input;
using BatchRecs.Lake.Storage;

namespace BatchRecs.Lake.Tests.Storage;

/// <summary>
/// The store contract, on both stores every lake path goes through: the local file system (<see cref="LocalDirectoryStore"/>)
/// and a real Azurite blob service. Listing, ranged reads, conditional writes, writes through a local file, trees, input
/// discovery.
/// </summary>
public sealed class ObjectStoreTests : IDisposable
{
    private readonly Lazy<AzuriteServer> _azurite = new(() => new AzuriteServer());
    private readonly string _dir = Directory.CreateTempSubdirectory("batchrecs-store-").FullName;

    /// <summary>A store and a fresh folder in it: a container on Azurite, or a temporary directory on this disk.</summary>
    private (IObjectStore Store, string Root, string Location) Store(string kind, string container)
    {
        if (kind == "local")
        {
            string dir = Path.Combine(_dir, container);
            Directory.CreateDirectory(dir);
            return (LocalDirectoryStore.Root, LocalDirectoryStore.Root.NameOf(dir) + "/", dir);
        }
        var client = new BlobContainerClient(_azurite.Value.ConnectionString, container);
        client.CreateIfNotExists();
        return (new AzureBlobStore(client), "", $"az://{container}");
    }

    private static MemoryStream Text(string s) => new(Encoding.UTF8.GetBytes(s));

    private static async Task<string> ReadText(IObjectStore store, string name)
    {
        await using var s = await store.OpenReadAsync(name);
        return await new StreamReader(s).ReadToEndAsync();
    }

    [Theory]
    [InlineData("local")]
    [InlineData("azure")]
    public async Task Objects_are_listed_by_level_read_by_range_and_written_only_under_their_conditions(string kind)
    {
        var (store, r, _) = Store(kind, "ops");
        await store.WriteAsync(r + "a/dt=2026-05-01/part-0.parquet", Text("0123456789abcdef"));
        await store.WriteAsync(r + "a/dt=2026-05-02/part-0.parquet", Text("x"));
        await store.WriteAsync(r + "a/top.txt", Text("t"));
        var level = await store.ListLevelAsync(r + "a/");
        Assert.Equal([r + "a/top.txt"], level.Objects.Select(o => o.Name));
        Assert.Equal([r + "a/dt=2026-05-01/", r + "a/dt=2026-05-02/"], level.Folders.Order(StringComparer.Ordinal));
        Assert.Equal(3, (await store.ListAllAsync(r + "a/")).Count);
        Assert.Equal(kind == "local" ? Path.Combine(_dir, "ops", "a", "top.txt") : "az://ops/a/top.txt", store.Describe(r + "a/top.txt"));
        Assert.Equal(16, (await store.FindAsync(r + "a/dt=2026-05-01/part-0.parquet"))?.Length);
        Assert.Null(await store.FindAsync(r + "a/dt=2026-05-01/part"));

        // A seekable stream: reading from the middle returns those bytes.
        await using (var s = await store.OpenReadAsync(r + "a/dt=2026-05-01/part-0.parquet"))
        {
            Assert.True(s.CanSeek);
            Assert.Equal(16, s.Length);
            s.Seek(10, SeekOrigin.Begin);
            var buf = new byte[4];
            Assert.Equal(4, await s.ReadAsync(buf));
            Assert.Equal("abcd", Encoding.UTF8.GetString(buf));
        }

        // Create only if absent; replace only if unchanged.
        Assert.True(await store.TryCreateAsync(r + "a/_LATEST", Text("run-1")));
        Assert.False(await store.TryCreateAsync(r + "a/_LATEST", Text("run-2")));
        var latest = (await store.FindAsync(r + "a/_LATEST"))!;
        if (kind == "local") await Task.Delay(20); // a file's ETag is its change time and size
        Assert.True(await store.TryReplaceAsync(r + "a/_LATEST", Text("run-3"), latest.ETag));
        Assert.False(await store.TryReplaceAsync(r + "a/_LATEST", Text("run-4"), latest.ETag)); // the ETag moved on
        Assert.Equal("run-3", await ReadText(store, r + "a/_LATEST"));
        Assert.True(await store.DeleteAsync(r + "a/_LATEST"));
        Assert.False(await store.DeleteAsync(r + "a/_LATEST"));
        var missing = await Assert.ThrowsAsync<LakeInputException>(() => store.OpenReadAsync(r + "a/none.parquet"));
        Assert.Equal($"{store.Describe(r + "a/none.parquet")} does not exist.", missing.Message);

        await store.DeleteFolderAsync(r + "a/");
        Assert.Empty(await store.ListAllAsync(r + "a/"));
    }

    [Theory]
    [InlineData("local")]
    [InlineData("azure")]
    public async Task Writes_through_a_local_file_and_whole_trees_appear_whole_or_not_at_all(string kind)
    {
        var (store, r, location) = Store(kind, "writes");
        // A writer that seeks (as the transposed CSR's does): the object is what the file held at the end.
        store.WriteThroughFile(r + "s/x.bin", fs => { fs.Write("abcdef"u8); fs.Position = 1; fs.Write("Z"u8); });
        Assert.Equal("aZcdef", await ReadText(store, r + "s/x.bin"));
        // A writer that fails leaves the object as it was, and no staged file behind (in the folder or the temp dir).
        string? staged = null;
        Assert.Throws<InvalidOperationException>(() => store.WriteThroughFile(r + "s/x.bin", fs =>
        {
            staged = fs.Name;
            fs.Write("partial"u8);
            throw new InvalidOperationException("writer failed");
        }));
        Assert.Equal("aZcdef", await ReadText(store, r + "s/x.bin"));
        Assert.False(File.Exists(staged));
        Assert.Equal([r + "s/x.bin"], (await store.ListAllAsync(r + "s/")).Select(o => o.Name));

        // Trees: written where the writer is pointed, all files under the prefix.
        Environment.SetEnvironmentVariable(AzureBlobStore.ConnectionStringVariable, kind == "azure" ? _azurite.Value.ConnectionString : null);
        try
        {
            int files = await StagedOutput.WriteAsync($"{location}/tree", async dir =>
            {
                Directory.CreateDirectory(Path.Combine(dir, "dt=2026-05-01"));
                await File.WriteAllTextAsync(Path.Combine(dir, "dt=2026-05-01", "p.parquet"), "p");
                await File.WriteAllTextAsync(Path.Combine(dir, "top.txt"), "t");
                return 2;
            });
            Assert.Equal(2, files);
            Assert.Equal([r + "tree/dt=2026-05-01/p.parquet", r + "tree/top.txt"], (await store.ListAllAsync(r + "tree/")).Select(o => o.Name));
            // A tree writer that fails uploads nothing (on a disk it wrote in place what it wrote).
            await Assert.ThrowsAsync<IOException>(() => StagedOutput.WriteAsync<int>($"{location}/failed", async dir =>
            {
                Directory.CreateDirectory(dir);
                await File.WriteAllTextAsync(Path.Combine(dir, "half.txt"), "h");
                throw new IOException("writer failed");
            }));
            if (kind == "azure") Assert.Empty(await store.ListAllAsync(r + "failed/"));
        }
        finally
        {
            Environment.SetEnvironmentVariable(AzureBlobStore.ConnectionStringVariable, null);
        }
    }

    [Theory]
    [InlineData("local")]
    [InlineData("azure")]
    public async Task Input_listing_prunes_partitions_outside_the_window_without_listing_them_and_flags_bad_objects(string kind)
    {
        var (store, r, location) = Store(kind, "lake");
        foreach (var day in new[] { "2026-04-01", "2026-04-29", "2026-04-30" })
            await store.WriteAsync($"{r}events/dt={day}/part-0.parquet", Text("not parquet, but never opened here"));
        await store.WriteAsync(r + "events/dt=2026-04-30/_tmp.parquet", Text("in flight")); // hidden: skipped
        await store.WriteAsync(r + "events/dt=2026-04-30/empty.parquet", new MemoryStream());
        await store.WriteAsync(r + "events/dt=April/part-0.parquet", Text("malformed partition"));
        await store.WriteAsync(r + "events/notes.txt", Text("not parquet: skipped"));
        await store.WriteAsync(r + "events/dt=2026-04-01/part-1.parquet", Text("a second file of the day outside the window"));
        Environment.SetEnvironmentVariable(AzureBlobStore.ConnectionStringVariable, kind == "azure" ? _azurite.Value.ConnectionString : null);
        try
        {
            var listing = await InputDirectory.ListAsync($"{location}/events", new ReadWindow(new DateOnly(2026, 5, 1), 7));
            Assert.Equal(1, listing.Pruned); // dt=2026-04-01, never listed (listed, its two files would count)
            string Shown(string name) => store.Describe(r + name);
            Assert.Equal([Shown("events/dt=2026-04-29/part-0.parquet"), Shown("events/dt=2026-04-30/empty.parquet"),
                Shown("events/dt=2026-04-30/part-0.parquet"), Shown("events/dt=April/part-0.parquet")], listing.Files.Select(f => f.Path));
            Assert.Equal(new DateOnly(2026, 4, 29), listing.Files[0].Day);
            Assert.Null(listing.Files[0].Problem);
            Assert.True(listing.Files[0].Length > 0 && listing.Files[0].ModifiedUtc is not null);
            Assert.Contains(Shown("events/dt=2026-04-30/empty.parquet") + ": 0 bytes", listing.Files[1].Problem);
            Assert.Contains(Shown("events/dt=April/part-0.parquet") + ": partition directory 'dt=April'", listing.Files[3].Problem);
        }
        finally
        {
            Environment.SetEnvironmentVariable(AzureBlobStore.ConnectionStringVariable, null);
        }
    }

    /// <summary>
    /// On a disk the walk follows links once per real file, and only files the caller keeps count as seen: a kept link to a
    /// hidden or differently named file is input (a content-addressed layout links `part-0.parquet` to a blob named by its hash).
    /// </summary>
    [Fact]
    public async Task A_local_walk_lists_kept_links_to_files_it_does_not_keep_and_every_real_file_once()
    {
        string events = Path.Combine(_dir, "linked", "events");
        string day = Path.Combine(events, "dt=2026-04-30");
        Directory.CreateDirectory(day);
        Directory.CreateDirectory(Path.Combine(_dir, "linked", "objects"));
        await File.WriteAllTextAsync(Path.Combine(day, "_hidden.parquet"), "x");
        File.CreateSymbolicLink(Path.Combine(day, "a.parquet"), "_hidden.parquet");
        await File.WriteAllTextAsync(Path.Combine(_dir, "linked", "objects", "ab12cd"), "y");
        File.CreateSymbolicLink(Path.Combine(day, "b.parquet"), Path.Combine(_dir, "linked", "objects", "ab12cd"));
        File.CreateSymbolicLink(Path.Combine(day, "c.parquet"), Path.Combine(_dir, "linked", "objects", "ab12cd")); // a second name: once
        var listing = await InputDirectory.ListAsync(events, new ReadWindow(new DateOnly(2026, 5, 1), 7));
        Assert.Equal([Path.Combine(day, "a.parquet"), Path.Combine(day, "b.parquet")], listing.Files.Select(f => f.Path));
        Assert.All(listing.Files, f => Assert.Null(f.Problem));
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
        Assert.Equal(("lake", "events/dt=2026-05-01/p.parquet/"), LakeLocation.ParseAzure("az://lake/events/dt=2026-05-01/p.parquet"));
        // A local path is its full path under the file system's root, and is shown as that path again.
        var (store, prefix) = LakeLocation.Open("/srv/lake/../events/");
        Assert.Same(LocalDirectoryStore.Root, store);
        Assert.Equal("srv/events/", prefix);
        Assert.Equal("/srv/events/dt=2026-05-01/p.parquet", store.Describe(prefix + "dt=2026-05-01/p.parquet"));
    }

    public void Dispose()
    {
        if (_azurite.IsValueCreated) _azurite.Value.Dispose();
        Directory.Delete(_dir, recursive: true);
    }
}
