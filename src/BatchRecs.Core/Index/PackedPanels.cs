namespace BatchRecs.Core.Index;

/// <summary>
/// Vectors laid out for the SIMD scan: groups ("panels") of <see cref="Width"/> = 16 slots, each panel stored
/// dimension-major, so one 64-byte cache line holds dimension d of 16 vectors and one Vector512 load fetches it.
/// </summary>
/// <remarks>
/// Example, 3 items of dimension 2 (a, b, c), padded to one panel:
/// <code>
///   rows (item × dim)        panel 0 (dim × 16 slots)
///   a: [a0 a1]               d0: a0 b0 c0 0 … 0
///   b: [b0 b1]      ──►      d1: a1 b1 c1 0 … 0
///   c: [c0 c1]               SlotIds: [0, 1, 2, −1, …, −1]
/// </code>
/// <see cref="SlotIds"/> maps a slot to the id reported for it (an item id, or a centroid id), −1 for padding.
/// Inverted lists start on panel boundaries, so a list is a contiguous range of panels. The data live in a
/// pinned array aligned to 64 bytes. Immutable after construction; shared between threads.
/// </remarks>
internal sealed class PackedPanels
{
    public const int Width = 16;
    private const int AlignFloats = 16;

    private readonly float[] _data;
    private readonly int _offset;

    private PackedPanels(float[] data, int offset, int dim, int[] slotIds)
    {
        _data = data;
        _offset = offset;
        Dim = dim;
        SlotIds = slotIds;
        LaneMasks = new uint[slotIds.Length / Width];
        for (int i = 0; i < slotIds.Length; i++)
            if (slotIds[i] >= 0) LaneMasks[i / Width] |= 1u << (i % Width);
    }

    public int Dim { get; }
    public int Panels => SlotIds.Length / Width;
    public int[] SlotIds { get; }

    /// <summary>Per panel, bit t set when slot t holds a vector (not padding): padding scores 0 and must never be offered.</summary>
    public uint[] LaneMasks { get; }

    /// <summary>Floats per panel: Dim × Width.</summary>
    public int PanelFloats => Dim * Width;

    /// <summary>Pointer to the first panel; valid while this object lives (the array is pinned).</summary>
    public unsafe float* Pointer => (float*)System.Runtime.CompilerServices.Unsafe.AsPointer(ref _data[_offset]);

    /// <summary>Packs <paramref name="rows"/> (rowCount × dim, row-major) in slot order.</summary>
    /// <param name="slotRows">for each slot, the row to place there, or −1 for padding; length a multiple of <see cref="Width"/>.</param>
    /// <param name="slotIds">the id reported for each slot (−1 for padding); null = the row index.</param>
    /// <param name="rows">rowCount × dim, row-major.</param>
    /// <param name="dim">floats per row.</param>
    public static PackedPanels Pack(ReadOnlySpan<float> rows, int dim, int[] slotRows, int[]? slotIds = null)
    {
        if (slotRows.Length % Width != 0) throw new ArgumentException("slot count must be a multiple of the panel width.", nameof(slotRows));
        long floats = (long)slotRows.Length * dim;
        var data = GC.AllocateArray<float>(checked((int)(floats + AlignFloats)), pinned: true);
        int offset;
        unsafe
        {
            fixed (float* p = data)
                offset = (int)((64 - ((nint)p & 63)) & 63) / sizeof(float);
        }
        int panels = slotRows.Length / Width;
        for (int p = 0; p < panels; p++)
        {
            long baseIdx = offset + (long)p * dim * Width;
            for (int t = 0; t < Width; t++)
            {
                int r = slotRows[p * Width + t];
                if (r < 0) continue;
                var src = rows.Slice(r * dim, dim);
                for (int d = 0; d < dim; d++) data[baseIdx + d * Width + t] = src[d];
            }
        }
        return new PackedPanels(data, offset, dim, slotIds ?? slotRows);
    }

    /// <summary>Slots 0..count−1 hold rows 0..count−1, then padding to a whole panel.</summary>
    public static int[] IdentitySlots(int count)
    {
        var slots = new int[(count + Width - 1) / Width * Width];
        for (int i = 0; i < slots.Length; i++) slots[i] = i < count ? i : -1;
        return slots;
    }
}
