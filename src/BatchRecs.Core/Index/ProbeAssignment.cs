namespace BatchRecs.Core.Index;

/// <summary>
/// The inverted lists each user of an IVF search scans, best-ranked first: what <see cref="IvfIndex.AssignProbes"/>
/// returns and <see cref="IvfIndex.SearchPreassigned"/> takes. FAISS's <c>IndexIVF::search</c> is the same two steps
/// (the coarse quantizer's search, then <c>search_preassigned</c>), so either half can be run, timed or replaced alone.
/// </summary>
/// <remarks>
/// Row j of the search is user <see cref="Users"/>[j] (a row of the user factors), who scans lists
/// <see cref="Lists"/>[<see cref="Start"/>[j] .. <see cref="Start"/>[j + 1]). Example: users [7, 2]; user 7 probes
/// lists 3 and 0, user 2 probes lists 1, 4 and 5:
/// <code>
///   Users = [7, 2]   Start = [0, 2, 5]   Lists = [3, 0, 1, 4, 5]
/// </code>
/// A user's lists must be distinct (an item is in one list, so distinct lists never yield it twice); the index that
/// searches checks them. Not changed after construction; may be shared between threads.
/// </remarks>
public sealed class ProbeAssignment
{
    /// <param name="users">the user (factor row) of each search row.</param>
    /// <param name="start">users + 1 offsets into <paramref name="lists"/>, from 0, non-decreasing, ending at lists.Length.</param>
    /// <param name="lists">each user's lists, best-ranked first.</param>
    /// <param name="centroidsScored">(user, centroid) inner products computed to choose the lists (carried into the search's statistics).</param>
    /// <param name="usersExtended">users given lists beyond nprobe because their first nprobe could not hold N eligible items.</param>
    public ProbeAssignment(int[] users, int[] start, int[] lists, long centroidsScored = 0, int usersExtended = 0)
    {
        ArgumentNullException.ThrowIfNull(users);
        ArgumentNullException.ThrowIfNull(start);
        ArgumentNullException.ThrowIfNull(lists);
        if (start.Length != users.Length + 1 || start[0] != 0 || start[^1] != lists.Length)
            throw new ArgumentException($"start must hold users + 1 = {users.Length + 1} offsets from 0 to lists.Length = {lists.Length}.", nameof(start));
        for (int j = 0; j < users.Length; j++)
            if (start[j + 1] < start[j]) throw new ArgumentException($"start must not decrease (row {j}: {start[j]} then {start[j + 1]}).", nameof(start));
        Users = users;
        Start = start;
        Lists = lists;
        CentroidsScored = centroidsScored;
        UsersExtended = usersExtended;
    }

    public int[] Users { get; }
    public int[] Start { get; }
    public int[] Lists { get; }
    public long CentroidsScored { get; }
    public int UsersExtended { get; }

    /// <summary>Search rows.</summary>
    public int Count => Users.Length;

    /// <summary>The lists of search row <paramref name="j"/>, best-ranked first.</summary>
    public ReadOnlySpan<int> ListsOf(int j) => Lists.AsSpan(Start[j], Start[j + 1] - Start[j]);

    /// <summary>Builds the offsets from one list array per row.</summary>
    internal static ProbeAssignment FromRows(int[] users, int[][] rows, long centroidsScored, int usersExtended)
    {
        var start = new int[users.Length + 1];
        for (int j = 0; j < users.Length; j++) start[j + 1] = start[j] + rows[j].Length;
        var lists = new int[start[^1]];
        for (int j = 0; j < users.Length; j++) rows[j].CopyTo(lists, start[j]);
        return new ProbeAssignment(users, start, lists, centroidsScored, usersExtended);
    }
}
