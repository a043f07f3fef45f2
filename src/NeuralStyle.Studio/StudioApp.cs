using System.Net;
using System.Reflection;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace NeuralStyle.Studio;

/// <summary>
/// The web studio: one ASP.NET Core process serving the page (embedded HTML/JS/CSS), the JSON API, the OpenAPI
/// document and server-sent progress, over a <see cref="JobQueue"/> that runs the supplied methods.
/// </summary>
public static class StudioApp
{
    /// <summary>
    /// Builds the server (not started). <paramref name="configure"/> may adjust the builder before it is built
    /// (tests use it for the in-process test server). <paramref name="info"/> receives a line per job event.
    /// </summary>
    public static WebApplication Build(StudioOptions options, IEnumerable<IStudioMethod> methods,
        Action<string>? info = null, Action<WebApplicationBuilder>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(methods);
        options.Validate();
        options = options with { DataDirectory = Path.GetFullPath(options.DataDirectory) };
        Directory.CreateDirectory(Path.Combine(options.DataDirectory, "jobs"));

        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
        {
            ApplicationName = typeof(StudioApp).Assembly.GetName().Name,
            ContentRootPath = options.DataDirectory,
            Args = [],
        });
        builder.Logging.ClearProviders();
        builder.Logging.AddSimpleConsole(o => o.SingleLine = true).SetMinimumLevel(LogLevel.Warning);
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.Limits.MaxRequestBodySize = options.MaxRequestBytes;
            k.AddServerHeader = false;
            if (options.Host.Equals("localhost", StringComparison.OrdinalIgnoreCase)) k.ListenLocalhost(options.Port);
            else k.Listen(IPAddress.Parse(options.Host.Trim('[', ']')), options.Port);
        });
        builder.Services.Configure<FormOptions>(f =>
        {
            f.MultipartBodyLengthLimit = options.MaxRequestBytes;
            f.ValueLengthLimit = 64 << 10;
            f.ValueCountLimit = 64;
        });
        builder.Services.Configure<HostOptions>(h => h.ShutdownTimeout = TimeSpan.FromSeconds(30));
        builder.Services.ConfigureHttpJsonOptions(j => j.SerializerOptions.NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals);
        builder.Services.AddSingleton(options);
        builder.Services.AddSingleton(_ => new JobStore(options.DataDirectory));
        builder.Services.AddSingleton(sp => new JobQueue(options, sp.GetRequiredService<JobStore>(), methods, info));
        builder.Services.AddHostedService(sp => sp.GetRequiredService<JobQueue>());
        configure?.Invoke(builder);

        WebApplication app = builder.Build();
        app.Use(async (ctx, next) =>
        {
            ctx.Response.Headers.XContentTypeOptions = "nosniff";
            ctx.Response.Headers["Referrer-Policy"] = "no-referrer";
            ctx.Response.Headers.ContentSecurityPolicy = "default-src 'self'; img-src 'self' blob: data:; style-src 'self'; script-src 'self'";
            try
            {
                await next(ctx);
            }
            catch (BadHttpRequestException e) when (!ctx.Response.HasStarted)
            {
                await StudioApi.Error(ctx, e.StatusCode, e.StatusCode == 413
                    ? $"The upload is larger than the {options.MaxRequestBytes >> 20} MB the studio accepts."
                    : "The request could not be read.");
            }
        });
        if (options.Token is { } token) app.Use((ctx, next) => CheckToken(ctx, next, token));
        StudioApi.Map(app, options);
        return app;
    }

    private const string TokenCookie = "neuralstyle_token";

    // Every request carries the token: header, query (the first page load) or the cookie that load sets. A browser
    // opening the page without it gets a form asking for it (which loads /?token=…); everything else the JSON 401.
    private static async Task CheckToken(HttpContext ctx, Func<Task> next, string token)
    {
        string? bearer = ctx.Request.Headers.Authorization.ToString() is { } auth && auth.StartsWith("Bearer ", StringComparison.Ordinal)
            ? auth["Bearer ".Length..]
            : null;
        string? query = ctx.Request.Query["token"].FirstOrDefault();
        string? given = bearer ?? query ?? ctx.Request.Cookies[TokenCookie];
        if (given is null || !CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(given), Encoding.UTF8.GetBytes(token)))
        {
            if (TokenPage.IsPageRequest(ctx.Request)) await TokenPage.Write(ctx, rejected: bearer is null && query is not null);
            else await StudioApi.Error(ctx, 401, "This studio needs its token: open it as /?token=… or send an Authorization: Bearer header.");
            return;
        }
        if (ctx.Request.Query.ContainsKey("token"))
            ctx.Response.Cookies.Append(TokenCookie, token, new CookieOptions { HttpOnly = true, SameSite = SameSiteMode.Strict, Path = "/" });
        await next();
    }

    /// <summary>The addresses the started server listens on (e.g. with port 0, the one chosen).</summary>
    public static IReadOnlyList<string> Addresses(WebApplication app)
        => app.Services.GetRequiredService<Microsoft.AspNetCore.Hosting.Server.IServer>().Features
               .Get<Microsoft.AspNetCore.Hosting.Server.Features.IServerAddressesFeature>()?.Addresses.ToList() ?? [];

    /// <summary>An embedded page file (wwwroot/NAME), or null.</summary>
    public static byte[]? Resource(string name)
    {
        using Stream? s = Assembly.GetExecutingAssembly().GetManifestResourceStream("wwwroot/" + name);
        if (s is null) return null;
        using var m = new MemoryStream();
        s.CopyTo(m);
        return m.ToArray();
    }
}
