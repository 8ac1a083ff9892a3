using BatchRecs.Core.Data;
using Parquet;

namespace BatchRecs.Lake.Input;

/// <summary>The id kinds of an input, read from one file's Parquet footer (no rows): cheap enough to check before a run reads anything.</summary>
public static class InputIdKinds
{
    /// <summary>
    /// The kinds of <c>user_id</c> and <c>item_id</c> in the first readable file of <paramref name="files"/>, or nulls
    /// when none can be read (the reader then names the bad file).
    /// </summary>
    /// <param name="files">local files, or <c>az://</c> objects.</param>
    /// <param name="ct">cancels the check.</param>
    public static async Task<(IdKind? Users, IdKind? Items, string? File)> OfFirstAsync(IEnumerable<string> files, CancellationToken ct = default)
    {
        foreach (var file in files)
        {
            ct.ThrowIfCancellationRequested();
            try
            {
                await using var reader = await InteractionReader.OpenParquetAsync(file, ct);
                var schema = InputSchema.Check(reader.Schema, file);
                return (schema.UserKind, schema.ItemKind, file);
            }
            catch (Exception e) when (e is IOException or LakeInputException or InvalidDataException or NotSupportedException) { }
        }
        return (null, null, null);
    }
}
