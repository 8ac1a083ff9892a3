using SkiaSharp;

namespace BatchRecs.Reporting.Tests;

/// <summary>What a screenshot holds, counted pixel by pixel (decoded with SkiaSharp, which comes with ScottPlot).</summary>
public sealed record ScreenshotPixels(int Width, int Height, long NonWhite, long Dark, long ChartBlue, long ChartOrange)
{
    public double NonWhiteFraction => (double)NonWhite / ((long)Width * Height);

    public static ScreenshotPixels Count(string pngPath)
    {
        using var bitmap = SKBitmap.Decode(pngPath) ?? throw new InvalidDataException($"{pngPath} is not a decodable image.");
        long nonWhite = 0, dark = 0, blue = 0, orange = 0;
        foreach (var c in bitmap.Pixels)
        {
            if (c.Red < 245 || c.Green < 245 || c.Blue < 245) nonWhite++;
            if (c.Red + c.Green + c.Blue < 3 * 110) dark++;
            if (Near(c, 0x1f, 0x77, 0xb4)) blue++;   // the model's colour
            if (Near(c, 0xff, 0x7f, 0x0e)) orange++; // the baseline's colour
        }
        return new ScreenshotPixels(bitmap.Width, bitmap.Height, nonWhite, dark, blue, orange);
    }

    private static bool Near(SKColor c, int r, int g, int b) => Math.Abs(c.Red - r) + Math.Abs(c.Green - g) + Math.Abs(c.Blue - b) < 40;
}
