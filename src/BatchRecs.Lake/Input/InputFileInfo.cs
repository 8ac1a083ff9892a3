namespace BatchRecs.Lake.Input;

/// <summary>An input file a run read (for the manifest: what exactly went in).</summary>
public sealed record InputFileInfo(string Path, long Bytes, DateTime ModifiedUtc, long Rows);
