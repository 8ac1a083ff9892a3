namespace BatchRecs.Core.Index;

/// <summary>
/// The items of an IVF index grouped by coarse centroid and stored contiguously: list l is the panel range
/// [<see cref="PanelStart"/>[l], <see cref="PanelStart"/>[l + 1]) of <see cref="Panels"/>, holding the original
/// (un-augmented) item vectors with their original ids in <see cref="PackedPanels.SlotIds"/>.
/// </summary>
/// <remarks>
/// Example, 5 items in 2 lists (assignment [1, 0, 1, 1, 0]), panel width 16:
/// <code>
///   list 0: items 1, 4         → panel 0: slots [1, 4, −1 × 14]
///   list 1: items 0, 2, 3      → panel 1: slots [0, 2, 3, −1 × 13]
///   PanelStart = [0, 1, 2], Sizes = [2, 3]
/// </code>
/// Within a list, items are ordered by descending norm, ties by id (<see cref="NormOrder"/>): large-norm items tend to
/// score high, so a user's threshold rises early in each scan. Each item is in exactly one list, so a scan of distinct lists never
/// yields a duplicate. Padding costs on average half a panel per list. Immutable; shared between threads.
/// </remarks>
internal sealed class InvertedLists
{
    private InvertedLists(PackedPanels panels, int[] panelStart, int[] sizes)
    {
        Panels = panels;
        PanelStart = panelStart;
        Sizes = sizes;
    }

    public PackedPanels Panels { get; }
    public int[] PanelStart { get; }
    public int[] Sizes { get; }
    public int Count => Sizes.Length;

    /// <param name="items">items × k, row-major.</param>
    /// <param name="assignment">list of every item.</param>
    /// <param name="k">the factor dimension.</param>
    /// <param name="lists">number of lists (every value in <paramref name="assignment"/> is below it).</param>
    public static InvertedLists Build(float[] items, int k, int[] assignment, int lists)
    {
        int n = assignment.Length;
        var sizes = new int[lists];
        foreach (int l in assignment) sizes[l]++;
        var panelStart = new int[lists + 1];
        for (int l = 0; l < lists; l++) panelStart[l + 1] = panelStart[l] + (sizes[l] + PackedPanels.Width - 1) / PackedPanels.Width;

        // By list, then by descending norm, then by id: each item goes to its list's next free slot in norm order.
        var slots = new int[panelStart[lists] * PackedPanels.Width];
        Array.Fill(slots, -1);
        var next = new int[lists];
        for (int l = 0; l < lists; l++) next[l] = panelStart[l] * PackedPanels.Width;
        foreach (int i in NormOrder.Descending(items, n, k)) slots[next[assignment[i]]++] = i;
        return new InvertedLists(PackedPanels.Pack(items, k, slots), panelStart, sizes);
    }
}
