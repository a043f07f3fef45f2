using NeuralStyle.TestSupport;
using PuppeteerSharp;

namespace NeuralStyle.Studio.Tests;

/// <summary>The system's Chromium (Debian's <c>chromium</c>, installed by .ci/run), or none.</summary>
public static class Chromium
{
    public static string? Executable { get; } = Find();

    private static string? Find()
    {
        string? env = Environment.GetEnvironmentVariable("CHROMIUM_PATH");
        if (!string.IsNullOrEmpty(env)) return File.Exists(env) ? env : null;
        return new[] { "/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome" }.FirstOrDefault(File.Exists);
    }
}

/// <summary>A fact that is skipped, with the reason given, only when no Chromium executable exists.</summary>
public sealed class ChromiumFactAttribute : FactAttribute
{
    public ChromiumFactAttribute()
    {
        if (Chromium.Executable is null)
            Skip = "No Chromium executable (/usr/bin/chromium or $CHROMIUM_PATH); .ci/run installs Debian's chromium package.";
    }
}

/// <summary>The studio's page in a headless Chromium, collecting the page's console and script errors.</summary>
public sealed class ChromiumPage : IAsyncDisposable
{
    private ChromiumPage(IBrowser browser, IPage page) => (Browser, Page) = (browser, page);

    public IBrowser Browser { get; }
    public IPage Page { get; }
    public List<string> ConsoleErrors { get; } = [];

    /// <summary>Launches Chromium and opens <paramref name="studio"/>'s page in a 1280 × <paramref name="height"/> viewport.</summary>
    public static async Task<ChromiumPage> Open(StudioHost studio, int height)
    {
        IBrowser browser = await Puppeteer.LaunchAsync(new LaunchOptions
        {
            Headless = true,
            ExecutablePath = Chromium.Executable,
            // As root (CI) Chromium needs --no-sandbox; /dev/shm may be small in containers.
            Args = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run", "--no-default-browser-check"],
            Timeout = 60_000,
        });
        var c = new ChromiumPage(browser, await browser.NewPageAsync());
        c.Page.Console += (_, e) => { if (e.Message.Type == ConsoleType.Error) c.ConsoleErrors.Add(e.Message.Text); };
        c.Page.PageError += (_, e) => c.ConsoleErrors.Add(e.Message);
        await c.Page.SetViewportAsync(new ViewPortOptions { Width = 1280, Height = height });
        await c.Page.GoToAsync(studio.BaseAddress!, WaitUntilNavigation.Load);
        return c;
    }

    /// <summary>Saves a full-page screenshot to artifacts/test/<paramref name="name"/> and checks the page logged no error.</summary>
    public async Task FinishWithScreenshot(string name)
    {
        string dir = Path.Combine(Fixtures.RepoRoot, "artifacts", "test");
        Directory.CreateDirectory(dir);
        string shot = Path.Combine(dir, name);
        await Page.ScreenshotAsync(shot, new ScreenshotOptions { FullPage = true });
        Assert.True(new FileInfo(shot).Length > 10_000);
        Assert.Empty(ConsoleErrors);
    }

    public async ValueTask DisposeAsync()
    {
        await Page.DisposeAsync();
        await Browser.DisposeAsync();
    }
}

/// <summary>The page in a real headless Chromium against the studio on a 127.0.0.1 socket.</summary>
public sealed class BrowserTests
{
    [ChromiumFact]
    public async Task The_page_runs_a_job_from_dropped_images_to_a_downloadable_result()
    {
        await using StudioHost s = await StudioHost.OnSocket();
        await using ChromiumPage chromium = await ChromiumPage.Open(s, 980);
        IPage page = chromium.Page;

        // The network: the embedded random one (no download); a short run.
        await page.SelectAsync("fieldset[data-for='gatys coarse'] select[name=model]", "random");
        await SetValue(page, "fieldset[data-for='gatys coarse'] input[name=size]", "128");
        await SetValue(page, "fieldset[data-for='gatys coarse'] input[name=iterations]", "40");

        // Two images dropped as a person would: a DataTransfer holding files, dispatched as drop events.
        string photo = Convert.ToBase64String(File.ReadAllBytes(Path.Combine(Fixtures.RepoRoot, "examples", "images", "tubingen.jpg")));
        string style = Convert.ToBase64String(File.ReadAllBytes(Path.Combine(Fixtures.RepoRoot, "examples", "images", "starry_night.jpg")));
        await page.EvaluateFunctionAsync("""
            (photo, style) => {
              const file = (b64, name) => new File([Uint8Array.from(atob(b64), c => c.charCodeAt(0))], name, { type: 'image/jpeg' });
              const drop = (selector, f) => {
                const dt = new DataTransfer();
                dt.items.add(f);
                document.querySelector(selector).dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
              };
              drop('#content-drop', file(photo, 'tubingen.jpg'));
              drop('#style-drop', file(style, 'starry_night.jpg'));
            }
            """, photo, style);
        await page.WaitForFunctionAsync("() => !document.querySelector('#content-thumb').hidden && document.querySelectorAll('#styles li').length === 1");

        await page.ClickAsync("#start");
        var wait = new WaitForFunctionOptions { Timeout = 120_000, PollingInterval = 100 };
        // The preview updates while the job runs (at least two versions seen by the page).
        await page.WaitForFunctionAsync("() => Number(document.querySelector('#preview').dataset.version || 0) >= 2", wait);
        string running = await page.EvaluateExpressionAsync<string>("document.querySelector('#status').textContent");
        Assert.Matches(@"Running \d+/40|Done", running);
        // The result appears, with its download link and a curve drawn from the events.
        await page.WaitForFunctionAsync("() => { const r = document.querySelector('#result'); return !r.hidden && r.complete && r.naturalWidth > 0; }", wait);
        Assert.StartsWith("Done: 40 iterations", await page.EvaluateExpressionAsync<string>("document.querySelector('#status').textContent"));
        Assert.Equal(128, await page.EvaluateExpressionAsync<int>("document.querySelector('#result').naturalWidth"));
        Assert.False(await page.EvaluateExpressionAsync<bool>("document.querySelector('#download').hidden"));
        // The earlier-jobs strip shows the finished job's thumbnail.
        await page.WaitForFunctionAsync("() => [...document.querySelectorAll('#gallery img')].some(i => i.complete && i.naturalWidth > 0)", wait);

        await chromium.FinishWithScreenshot("studio.png");
    }

    [ChromiumFact]
    public async Task A_token_typed_into_the_prompt_opens_the_studio()
    {
        await using StudioHost s = await StudioHost.OnSocket(tweak: o => o with { Token = "s3cret" });
        await using ChromiumPage chromium = await ChromiumPage.Open(s, 600);
        IPage page = chromium.Page;

        await page.TypeAsync("input[name=token]", "guess");
        await Task.WhenAll(page.WaitForNavigationAsync(), page.ClickAsync("button[type=submit]"));
        Assert.Contains("That token was not accepted", await page.EvaluateExpressionAsync<string>("document.body.textContent"));
        // Its one inline style is allowed by the page's policy (by hash): the button is drawn in the accent colour.
        Assert.Equal("rgb(181, 70, 42)", await page.EvaluateExpressionAsync<string>("getComputedStyle(document.querySelector('button')).backgroundColor"));

        await page.TypeAsync("input[name=token]", "s3cret");
        await Task.WhenAll(page.WaitForNavigationAsync(), page.ClickAsync("button[type=submit]"));
        // The studio page, whose script's own requests the cookie now carries (StyleBank's model list arrives).
        await page.ClickAsync(".method[data-method=bank]");
        await page.WaitForFunctionAsync("() => document.querySelector('#bank-model').options.length > 0", new WaitForFunctionOptions { Timeout = 30_000 });
        // The prompt's two 401 answers are the only errors the browser reports.
        Assert.All(chromium.ConsoleErrors, e => Assert.Contains("401", e));
    }

    private static Task SetValue(IPage page, string selector, string value)
        => page.EvaluateFunctionAsync("(s, v) => { document.querySelector(s).value = v; }", selector, value);
}
