namespace BatchRecs.Core.Data;

/// <summary>How repeated events of one (user, item) pair combine into one strength.</summary>
public enum CombineRule { Sum, Max, Last }

/// <summary>Collapses an event log to one entry per (user, item) pair; the entry's time is the pair's last event.</summary>
public static class PairAggregator
{
    public static InteractionLog Combine(InteractionLog log, CombineRule rule = CombineRule.Sum)
    {
        int n = log.Count;
        var order = new int[n];
        for (int e = 0; e < n; e++) order[e] = e;
        var keys = new long[n];
        for (int e = 0; e < n; e++) keys[e] = ((long)log.Users[e] << 32) | (uint)log.Items[e];
        // Sort by (pair, time, original position): deterministic whatever the input order.
        Array.Sort(order, (a, b) =>
        {
            int c = keys[a].CompareTo(keys[b]);
            if (c != 0) return c;
            c = log.Times[a].CompareTo(log.Times[b]);
            return c != 0 ? c : a.CompareTo(b);
        });
        var u = new List<int>(n); var i = new List<int>(n); var v = new List<float>(n); var t = new List<long>(n);
        for (int p = 0; p < n;)
        {
            int e0 = order[p];
            float value = 0; long time = long.MinValue;
            int q = p;
            for (; q < n && keys[order[q]] == keys[e0]; q++)
            {
                int e = order[q];
                value = rule switch
                {
                    CombineRule.Sum => value + log.Values[e],
                    CombineRule.Max => q == p ? log.Values[e] : Math.Max(value, log.Values[e]),
                    _ => log.Values[e],
                };
                time = Math.Max(time, log.Times[e]);
            }
            u.Add(log.Users[e0]); i.Add(log.Items[e0]); v.Add(value); t.Add(time);
            p = q;
        }
        return new InteractionLog(log.UserIds, log.ItemIds, u.ToArray(), i.ToArray(), v.ToArray(), t.ToArray());
    }
}
