namespace BatchRecs.Lake.Output;

/// <summary>A written output file, as listed in the manifest.</summary>
public sealed record PartFile(string Name, long Rows, long Bytes, string Sha256);
