using NeuralStyle.Imaging;

namespace NeuralStyle.Gatys;

/// <summary>
/// What a stylisation ended with. <see cref="Failure"/> names options in braces as <see cref="Core.OptionException"/>
/// sentences do (render them with <see cref="Core.OptionException.Render(string, Func{string, string})"/>).
/// </summary>
public sealed record StylizeResult(Image Image, int Iterations, double Seconds, bool Cancelled, string? Failure)
{
    public bool Succeeded => Failure is null;
}
