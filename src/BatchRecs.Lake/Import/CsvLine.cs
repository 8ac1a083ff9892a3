using System.Text;

namespace BatchRecs.Lake.Import;

/// <summary>Splits one delimited line into fields, honouring RFC 4180 double quotes ("a, b" and "" escapes).</summary>
public static class CsvLine
{
    public static List<string> Split(string line, char sep)
    {
        var fields = new List<string>();
        var sb = new StringBuilder();
        bool quoted = false;
        for (int i = 0; i < line.Length; i++)
        {
            char ch = line[i];
            if (quoted)
            {
                if (ch == '"')
                {
                    if (i + 1 < line.Length && line[i + 1] == '"') { sb.Append('"'); i++; }
                    else quoted = false;
                }
                else sb.Append(ch);
            }
            else if (ch == '"' && sb.Length == 0) quoted = true;
            else if (ch == sep) { fields.Add(sb.ToString()); sb.Clear(); }
            else sb.Append(ch);
        }
        if (quoted) throw new FormatException("unterminated quoted field");
        fields.Add(sb.ToString());
        return fields;
    }
}
