using System.Text.Json;
using NeuralStyle.Imaging;
using NeuralStyle.TestSupport;
using PuppeteerSharp;
using PuppeteerSharp.Input;

namespace NeuralStyle.Studio.Tests;

/// <summary>The StyleBank part of the page in headless Chromium: pick the bank, paint two regions with the mouse, run.</summary>
public sealed class BankBrowserTests
{
    [ChromiumFact]
    public async Task Regions_painted_with_the_mouse_become_the_mask_of_a_bank_job()
    {
        await using StudioHost s = await StudioHost.OnSocket(StudioBankTests.DataWithBank());
        await using ChromiumPage chromium = await ChromiumPage.Open(s, 1100);
        IPage page = chromium.Page;

        // The bank is offered from GET /api/models, with its styles.
        await page.ClickAsync(".method[data-method=bank]");
        await page.WaitForFunctionAsync($"() => document.querySelector('#bank-model').value === '{StudioBankTests.BankName}'");
        Assert.Equal(StudioBankTests.BankStyles, await page.EvaluateExpressionAsync<string[]>("[...document.querySelectorAll('#bank-style option')].map(o => o.value)"));
        Assert.True(await page.EvaluateExpressionAsync<bool>("document.querySelector('#style-drop').hidden"));

        // Blend mode: one slider per style, shown normalised.
        await page.SelectAsync("#bank-mode", "blend");
        Assert.Equal(["50%", "50%", "0%"], await page.EvaluateExpressionAsync<string[]>("[...document.querySelectorAll('#bank-blend output')].map(o => o.textContent)"));

        // Regions: drop the photo, paint a red stroke (waves) on the left and a blue one (dots) on the right.
        await page.SelectAsync("#bank-mode", "regions");
        await page.EvaluateFunctionAsync("(s, v) => { document.querySelector(s).value = v; }", "#bank input[name=size]", "256");
        string photo = Convert.ToBase64String(File.ReadAllBytes(Path.Combine(Fixtures.RepoRoot, "examples", "images", "tubingen.jpg")));
        await page.EvaluateFunctionAsync("""
            photo => {
              const dt = new DataTransfer();
              dt.items.add(new File([Uint8Array.from(atob(photo), c => c.charCodeAt(0))], 'tubingen.jpg', { type: 'image/jpeg' }));
              document.querySelector('#content-drop').dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
            }
            """, photo);
        await page.WaitForFunctionAsync("() => !document.querySelector('#painter').hidden && document.querySelector('#mask').width === 1024");
        Assert.Equal(3, await page.EvaluateExpressionAsync<int>("document.querySelectorAll('#palette .swatch').length"));

        BoundingBox box = await (await page.QuerySelectorAsync("#mask")).BoundingBoxAsync();
        async Task Stroke(decimal fromX, decimal toX)
        {
            await page.Mouse.MoveAsync(box.X + box.Width * fromX, box.Y + box.Height * 0.3m);
            await page.Mouse.DownAsync();
            await page.Mouse.MoveAsync(box.X + box.Width * toX, box.Y + box.Height * 0.7m, new MoveOptions { Steps = 12 });
            await page.Mouse.UpAsync();
        }
        await Stroke(0.05m, 0.35m);
        await page.ClickAsync("#palette .swatch:nth-child(2) button");
        await Stroke(0.65m, 0.95m);
        Assert.True(await page.EvaluateExpressionAsync<bool>(
            "(() => { const c = document.querySelector('#mask'); return c.getContext('2d').getImageData(0, 0, c.width, c.height).data.some((v, i) => i % 4 === 3 && v > 0); })()"),
            "the strokes painted the canvas");

        await page.ClickAsync("#start");
        var wait = new WaitForFunctionOptions { Timeout = 120_000, PollingInterval = 100 };
        await page.WaitForFunctionAsync("() => { const r = document.querySelector('#result'); return !r.hidden && r.complete && r.naturalWidth > 0; }", wait);
        Assert.Equal(256, await page.EvaluateExpressionAsync<int>("document.querySelector('#result').naturalWidth"));
        Assert.Equal("", await page.EvaluateExpressionAsync<string>("document.querySelector('#message').textContent"));

        // What the page sent: the colours it painted with, each naming its style, and the mask at the photo's size.
        JsonElement job = JsonDocument.Parse(await s.Client.GetStringAsync("/api/jobs")).RootElement[0];
        Assert.Equal("done", job.GetProperty("status").GetString());
        JsonElement options = job.GetProperty("options");
        Assert.Equal(StudioBankTests.BankName, options.GetProperty("model").GetString());
        Assert.Equal("ff0000:waves,0000ff:dots", options.GetProperty("region-styles").GetString());
        Assert.Equal("composite", options.GetProperty("region-mode").GetString());
        Image mask = ImageIO.Load(Path.Combine(s.DataDirectory, "jobs", job.GetProperty("id").GetString()!, "mask.png"));
        Assert.Equal((1024, 768), (mask.Width, mask.Height));
        var colours = new HashSet<(float, float, float)>();
        for (int y = 0; y < mask.Height; y += 2)
        for (int x = 0; x < mask.Width; x += 2) colours.Add((mask[x, y, 0], mask[x, y, 1], mask[x, y, 2]));
        Assert.Equal(new HashSet<(float, float, float)> { (1, 0, 0), (0, 0, 1), (0, 0, 0) }, colours); // snapped: no anti-aliased in-between
        Assert.Equal((1f, 0f, 0f), (mask[1024 / 5, 768 / 2, 0], mask[1024 / 5, 768 / 2, 1], mask[1024 / 5, 768 / 2, 2]));
        Assert.Equal((0f, 0f, 1f), (mask[1024 * 4 / 5, 768 / 2, 0], mask[1024 * 4 / 5, 768 / 2, 1], mask[1024 * 4 / 5, 768 / 2, 2]));

        await chromium.FinishWithScreenshot("studio-bank.png");
    }
}
