namespace BatchRecs.Lake.Input;

/// <summary>An append-only array that doubles as it grows (List without the per-call checks and with span access).</summary>
internal sealed class GrowableArray<T>(int capacity = 1024)
{
    private T[] _items = new T[capacity];
    public int Count { get; private set; }

    public void Add(T item)
    {
        if (Count == _items.Length) Array.Resize(ref _items, _items.Length * 2);
        _items[Count++] = item;
    }

    /// <summary>Drops the items after the first <paramref name="count"/>.</summary>
    public void Truncate(int count) => Count = Math.Min(Count, count);

    public T[] ToArray() => _items.AsSpan(0, Count).ToArray();
}
