namespace BatchRecs.Core.Index;

/// <summary>
/// A bounded min-heap that keeps the K best (score, item) pairs seen so far. "Better" means a higher
/// score, ties broken by the lower item index, so results are deterministic. Not thread-safe: one per thread.
/// </summary>
public sealed class TopKHeap
{
    private readonly float[] _scores;
    private readonly int[] _items;

    public TopKHeap(int capacity)
    {
        if (capacity < 0) throw new ArgumentOutOfRangeException(nameof(capacity));
        _scores = new float[capacity];
        _items = new int[capacity];
    }

    public int Count { get; private set; }
    public int Capacity => _scores.Length;

    /// <summary>The worst score kept, or −∞ while the heap is not full: a candidate must beat it.</summary>
    public float Threshold => Count < Capacity ? float.NegativeInfinity : _scores[0];

    public void Clear() => Count = 0;

    private static bool Worse(float s1, int i1, float s2, int i2) => s1 < s2 || (s1 == s2 && i1 > i2);

    public void Push(float score, int item)
    {
        if (Capacity == 0) return;
        if (Count < Capacity)
        {
            int c = Count++;
            _scores[c] = score; _items[c] = item;
            SiftUp(c);
        }
        else if (Worse(_scores[0], _items[0], score, item))
        {
            _scores[0] = score; _items[0] = item;
            SiftDown(0);
        }
    }

    private void SiftUp(int c)
    {
        while (c > 0)
        {
            int p = (c - 1) >> 1;
            if (!Worse(_scores[c], _items[c], _scores[p], _items[p])) break;
            Swap(c, p);
            c = p;
        }
    }

    private void SiftDown(int p)
    {
        while (true)
        {
            int l = 2 * p + 1, r = l + 1, m = p;
            if (l < Count && Worse(_scores[l], _items[l], _scores[m], _items[m])) m = l;
            if (r < Count && Worse(_scores[r], _items[r], _scores[m], _items[m])) m = r;
            if (m == p) return;
            Swap(p, m);
            p = m;
        }
    }

    private void Swap(int a, int b)
    {
        (_scores[a], _scores[b]) = (_scores[b], _scores[a]);
        (_items[a], _items[b]) = (_items[b], _items[a]);
    }

    /// <summary>Writes the kept pairs best-first and returns how many; empties the heap.</summary>
    public int DrainSorted(Span<int> items, Span<float> scores)
    {
        int n = Count;
        for (int pos = n - 1; pos >= 0; pos--)
        {
            items[pos] = _items[0];
            scores[pos] = _scores[0];
            Count--;
            if (Count > 0)
            {
                _scores[0] = _scores[Count]; _items[0] = _items[Count];
                SiftDown(0);
            }
        }
        return n;
    }
}
