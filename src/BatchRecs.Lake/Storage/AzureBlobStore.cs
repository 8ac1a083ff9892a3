using Azure;
using Azure.Identity;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using BatchRecs.Core.Errors;

namespace BatchRecs.Lake.Storage;

/// <summary>
/// A container of Azure Blob Storage (ADLS Gen2 accounts too, through their blob endpoint) as an <see cref="IObjectStore"/>.
/// Credentials come from the environment only: <c>AZURE_STORAGE_CONNECTION_STRING</c>, or <c>AZURE_STORAGE_ACCOUNT</c> with
/// <see cref="DefaultAzureCredential"/> (managed identity, workload identity, Azure CLI, …). Neither is ever logged or written
/// anywhere: messages and manifests name objects as <c>az://CONTAINER/NAME</c>.
/// </summary>
public sealed class AzureBlobStore(BlobContainerClient container) : IObjectStore
{
    public const string ConnectionStringVariable = "AZURE_STORAGE_CONNECTION_STRING";
    public const string AccountVariable = "AZURE_STORAGE_ACCOUNT";

    /// <summary>Ranged reads fetch at least this much at a time (a Parquet column chunk is usually one or a few reads).</summary>
    private const int ReadBufferBytes = 4 << 20;

    /// <summary>Clients by (credentials, container): one HTTP pipeline per container and process, as the SDK advises, not one per call.</summary>
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<(string?, string?, string), AzureBlobStore> Clients = new();

    /// <summary>The container <paramref name="name"/> of the account the environment names.</summary>
    public static AzureBlobStore Connect(string name)
    {
        string? connection = Environment.GetEnvironmentVariable(ConnectionStringVariable);
        string? account = Environment.GetEnvironmentVariable(AccountVariable);
        return Clients.GetOrAdd((connection, account, name), key => Create(key.Item1, key.Item2, key.Item3));
    }

    private static AzureBlobStore Create(string? connection, string? account, string name)
    {
        BlobServiceClient service;
        if (!string.IsNullOrWhiteSpace(connection))
        {
            try { service = new BlobServiceClient(connection, Options()); }
            catch (Exception e) when (e is FormatException or ArgumentException)
            {
                // The message must not echo the connection string: it holds the account key.
                throw new BadInputException($"{ConnectionStringVariable} is not a valid Azure Storage connection string.");
            }
        }
        else if (!string.IsNullOrWhiteSpace(account))
            service = new BlobServiceClient(new Uri($"https://{account}.blob.core.windows.net"), new DefaultAzureCredential(), Options());
        else
            throw new BadInputException($"{LakeLocation.AzureScheme} locations need credentials: set {ConnectionStringVariable}, or {AccountVariable} " +
                "(the storage account's name) for a managed identity, workload identity or Azure CLI login.");
        return new AzureBlobStore(service.GetBlobContainerClient(name));
    }

    /// <summary>Requests sent to the storage service by this process's clients (retries included): what a read costs in round trips.</summary>
    public static long RequestsSent => Interlocked.Read(ref _requestsSent);

    private static long _requestsSent;

    private static BlobClientOptions Options()
    {
        var options = new BlobClientOptions();
        options.AddPolicy(new RequestCounter(), Azure.Core.HttpPipelinePosition.PerRetry);
        return options;
    }

    private sealed class RequestCounter : Azure.Core.Pipeline.HttpPipelineSynchronousPolicy
    {
        public override void OnSendingRequest(Azure.Core.HttpMessage message) => Interlocked.Increment(ref _requestsSent);
    }

    public string Describe(string name) => $"{LakeLocation.AzureScheme}{container.Name}/{name}";

    public async Task<StoreLevel> ListLevelAsync(string prefix, CancellationToken ct = default)
    {
        var objects = new List<StoredObject>();
        var folders = new List<string>();
        await foreach (var item in Guard(prefix, () => container.GetBlobsByHierarchyAsync(BlobTraits.None, BlobStates.None, "/", prefix, ct)))
        {
            if (item.IsPrefix) folders.Add(item.Prefix);
            else objects.Add(Of(item.Blob));
        }
        return new StoreLevel(objects, folders);
    }

    public async Task<IReadOnlyList<StoredObject>> ListAllAsync(string prefix, CancellationToken ct = default)
    {
        var objects = new List<StoredObject>();
        await foreach (var blob in Guard(prefix, () => container.GetBlobsAsync(BlobTraits.None, BlobStates.None, prefix, ct)))
            objects.Add(Of(blob));
        return objects;
    }

    public async Task<Stream> OpenReadAsync(string name, CancellationToken ct = default)
    {
        try
        {
            return await container.GetBlobClient(name).OpenReadAsync(new BlobOpenReadOptions(allowModifications: false) { BufferSize = ReadBufferBytes }, ct);
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            throw new Input.LakeInputException($"{Describe(name)} does not exist.", Describe(name), null, e);
        }
    }

    public async Task<StoredObject> WriteAsync(string name, Stream content, CancellationToken ct = default)
    {
        await EnsureExistsAsync(ct);
        var blob = container.GetBlobClient(name);
        await blob.UploadAsync(content, overwrite: true, ct);
        var props = await blob.GetPropertiesAsync(cancellationToken: ct);
        return new StoredObject(name, props.Value.ContentLength, props.Value.LastModified.UtcDateTime, Tag(props.Value.ETag));
    }

    public async Task<bool> TryCreateAsync(string name, Stream content, CancellationToken ct = default)
    {
        await EnsureExistsAsync(ct);
        try
        {
            await container.GetBlobClient(name).UploadAsync(content, new BlobUploadOptions { Conditions = new BlobRequestConditions { IfNoneMatch = ETag.All } }, ct);
            return true;
        }
        catch (RequestFailedException e) when (e.Status is 409 or 412)
        {
            return false;
        }
    }

    public async Task<bool> TryReplaceAsync(string name, Stream content, string etag, CancellationToken ct = default)
    {
        try
        {
            await container.GetBlobClient(name).UploadAsync(content, new BlobUploadOptions { Conditions = new BlobRequestConditions { IfMatch = new ETag($"\"{etag}\"") } }, ct);
            return true;
        }
        catch (RequestFailedException e) when (e.Status is 409 or 412 or 404)
        {
            return false;
        }
    }

    public async Task<bool> DeleteAsync(string name, CancellationToken ct = default) =>
        (await container.GetBlobClient(name).DeleteIfExistsAsync(cancellationToken: ct)).Value;

    /// <summary>Deletes every object under the prefix; a container that does not exist has none.</summary>
    public async Task DeleteFolderAsync(string prefix, CancellationToken ct = default)
    {
        if (!(await container.ExistsAsync(ct)).Value) return;
        foreach (var o in await ListAllAsync(prefix, ct)) await DeleteAsync(o.Name, ct);
    }

    public async Task EnsureExistsAsync(CancellationToken ct = default) => await container.CreateIfNotExistsAsync(cancellationToken: ct);

    /// <summary>A file in the local temporary folder: an object appears whole when its upload completes, so it needs no rename.</summary>
    public string StagingFile(string name) => Path.Combine(Path.GetTempPath(), $"batchrecs-upload-{Environment.ProcessId}-{Guid.NewGuid():N}.bin");

    /// <summary>Uploads the staged file, then deletes it.</summary>
    public async Task<StoredObject> CommitFileAsync(string stagedFile, string name, CancellationToken ct = default)
    {
        StoredObject written;
        await using (var content = new FileStream(stagedFile, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20))
            written = await WriteAsync(name, content, ct);
        File.Delete(stagedFile);
        return written;
    }

    /// <summary>Runs the writer on a local staging folder, then uploads its files object by object in path order (only if it
    /// succeeded); the staging folder is removed either way.</summary>
    public async Task<T> WriteTreeAsync<T>(string prefix, Func<string, Task<T>> write, CancellationToken ct = default)
    {
        string staging = Path.Combine(Path.GetTempPath(), $"batchrecs-upload-{Guid.NewGuid():N}");
        try
        {
            var result = await write(staging);
            if (Directory.Exists(staging))
                foreach (var file in Directory.EnumerateFiles(staging, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
                {
                    await using var content = File.OpenRead(file);
                    await WriteAsync(prefix + Path.GetRelativePath(staging, file).Replace(Path.DirectorySeparatorChar, '/'), content, ct);
                }
            return result;
        }
        finally
        {
            if (Directory.Exists(staging)) Directory.Delete(staging, recursive: true);
        }
    }

    private static StoredObject Of(BlobItem blob) =>
        new(blob.Name, blob.Properties.ContentLength ?? 0, blob.Properties.LastModified?.UtcDateTime ?? DateTime.MinValue, blob.Properties.ETag is { } e ? Tag(e) : "");

    /// <summary>An ETag without its quotes: listings and properties give it with and without them.</summary>
    private static string Tag(ETag etag) => etag.ToString().Trim('"');

    /// <summary>A listing whose failures name the location (a missing container, refused credentials) instead of an SDK dump.</summary>
    private async IAsyncEnumerable<T> Guard<T>(string prefix, Func<IAsyncEnumerable<T>> list)
    {
        await using var e = list().GetAsyncEnumerator();
        while (true)
        {
            bool more;
            try { more = await e.MoveNextAsync(); }
            catch (RequestFailedException ex) when (ex.Status == 404)
            {
                throw new Input.LakeInputException($"{Describe(prefix)}: the container '{container.Name}' does not exist.", Describe(prefix), null, ex);
            }
            catch (RequestFailedException ex) when (ex.Status is 401 or 403)
            {
                throw new PermanentFailureException($"{Describe(prefix)}: the storage account refused the credentials ({ex.ErrorCode}).", ex);
            }
            if (!more) yield break;
            yield return e.Current;
        }
    }
}
