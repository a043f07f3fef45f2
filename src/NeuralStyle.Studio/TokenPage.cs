using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;

namespace NeuralStyle.Studio;

/// <summary>
/// What a browser opening the page of a studio served with a token sees without it: a small HTML page (401) asking
/// for the token, whose form loads <c>/?token=…</c> (the token check then sets its cookie and serves the page). It
/// never shows the token it was given, and needs nothing but itself (one inline style, allowed by its hash).
/// </summary>
internal static class TokenPage
{
    public const string Rejected = "That token was not accepted; check it and try again.";

    private const string Style =
        "body{margin:0;font:14px/1.4 system-ui,-apple-system,\"Segoe UI\",sans-serif;color:#222;background:#faf8f4}" +
        "main{max-width:360px;margin:12vh auto;padding:20px;background:#fff;border:1px solid #ddd8cf;border-radius:8px}" +
        "h1{margin:0 0 10px;font-size:20px}h1 span{color:#b5462a;font-weight:400}" +
        ".rejected{color:#b5462a}form{display:flex;gap:8px}" +
        "input{flex:1;min-width:0;font:inherit;padding:6px;border:1px solid #ddd8cf;border-radius:5px}" +
        "button{font:inherit;padding:6px 14px;border:1px solid #b5462a;border-radius:6px;background:#b5462a;color:#fff;cursor:pointer}";

    private static readonly string Csp =
        $"default-src 'none'; style-src 'sha256-{Convert.ToBase64String(SHA256.HashData(Encoding.UTF8.GetBytes(Style)))}'; " +
        "img-src data:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

    /// <summary>True for a browser asking for the page itself (GET / or /index.html, accepting text/html).</summary>
    public static bool IsPageRequest(HttpRequest request)
        => HttpMethods.IsGet(request.Method)
           && request.Path.Value is "/" or "/index.html"
           && request.GetTypedHeaders().Accept.Any(m => m.MediaType.Equals("text/html", StringComparison.OrdinalIgnoreCase));

    /// <summary>Answers 401 with the prompt; <paramref name="rejected"/>: a token was typed and was wrong.</summary>
    public static Task Write(HttpContext ctx, bool rejected)
    {
        ctx.Response.StatusCode = StatusCodes.Status401Unauthorized;
        ctx.Response.ContentType = "text/html; charset=utf-8";
        ctx.Response.Headers.CacheControl = "no-store";
        ctx.Response.Headers.ContentSecurityPolicy = Csp;
        return ctx.Response.WriteAsync($"""
            <!doctype html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>NeuralStyle studio: token</title>
            <link rel="icon" href="data:,">
            <style>{Style}</style>
            </head>
            <body>
            <main>
            <h1>NeuralStyle <span>studio</span></h1>
            <p>This studio needs its token, the one it was started with (<code>neuralstyle serve --token T</code>).</p>
            {(rejected ? $"<p class=\"rejected\" role=\"alert\">{Rejected}</p>\n" : "")}<form method="get" action="/">
            <input name="token" type="password" aria-label="Token" placeholder="Token" autocomplete="current-password" required autofocus>
            <button type="submit">Open the studio</button>
            </form>
            </main>
            </body>
            </html>

            """);
    }
}
