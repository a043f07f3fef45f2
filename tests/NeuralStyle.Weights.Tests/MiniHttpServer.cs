using System.Net;
using System.Net.Sockets;
using System.Text;

namespace NeuralStyle.Weights.Tests;

/// <summary>How the test server misbehaves.</summary>
internal enum ServeMode
{
    Normal,        // 200, or 206 for a Range request
    IgnoreRange,   // always 200 with the whole body
    Truncate,      // declares the full length, sends half, closes
    NotFound,      // 404
    Hang,          // accepts, reads the request, never answers
    StallBody,     // sends headers and a few bytes, then nothing
}

/// <summary>
/// A tiny HTTP/1.1 server on 127.0.0.1 with an ephemeral port, one request per connection, for downloader tests.
/// It never talks to anything but the loopback interface and stops when disposed.
/// </summary>
internal sealed class MiniHttpServer : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly byte[] _body;
    private readonly Task _loop;
    private readonly List<TcpClient> _clients = new();

    public MiniHttpServer(byte[] body, ServeMode mode)
    {
        _body = body;
        Mode = mode;
        _listener.Start();
        _loop = Task.Run(AcceptLoop);
    }

    public ServeMode Mode { get; set; }
    public string Url => $"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}/models/file.pth";
    public List<string?> RangeHeaders { get; } = new();
    public long BodyBytesSent;

    private async Task AcceptLoop()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync(_stop.Token);
            }
            catch (Exception) when (_stop.IsCancellationRequested)
            {
                return;
            }
            catch (SocketException)
            {
                return;
            }
            lock (_clients) _clients.Add(client);
            _ = Task.Run(() => Serve(client));
        }
    }

    private async Task Serve(TcpClient client)
    {
        try
        {
            var stream = client.GetStream();
            string request = await ReadHeaders(stream);
            string? range = request.Split("\r\n").FirstOrDefault(l => l.StartsWith("Range:", StringComparison.OrdinalIgnoreCase))?[6..].Trim();
            lock (RangeHeaders) RangeHeaders.Add(range);

            switch (Mode)
            {
                case ServeMode.Hang:
                    await Task.Delay(Timeout.Infinite, _stop.Token);
                    return;
                case ServeMode.NotFound:
                    await Send(stream, "HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\nConnection: close\r\n\r\nnot found");
                    break;
                case ServeMode.Truncate:
                    await Send(stream, $"HTTP/1.1 200 OK\r\nContent-Length: {_body.Length}\r\nConnection: close\r\n\r\n");
                    await SendBody(stream, 0, _body.Length / 2);
                    break;
                case ServeMode.StallBody:
                    await Send(stream, $"HTTP/1.1 200 OK\r\nContent-Length: {_body.Length}\r\nConnection: close\r\n\r\n");
                    await SendBody(stream, 0, Math.Min(10, _body.Length));
                    await Task.Delay(Timeout.Infinite, _stop.Token);
                    return;
                default:
                    long from = 0;
                    if (Mode == ServeMode.Normal && range is not null && range.StartsWith("bytes=", StringComparison.Ordinal) && range.EndsWith('-'))
                        from = long.Parse(range[6..^1]);
                    if (from > 0 && from < _body.Length)
                    {
                        await Send(stream, $"HTTP/1.1 206 Partial Content\r\nContent-Range: bytes {from}-{_body.Length - 1}/{_body.Length}\r\n" +
                                           $"Content-Length: {_body.Length - from}\r\nConnection: close\r\n\r\n");
                        await SendBody(stream, (int)from, _body.Length - (int)from);
                    }
                    else if (from >= _body.Length && from > 0)
                    {
                        await Send(stream, $"HTTP/1.1 416 Range Not Satisfiable\r\nContent-Range: bytes */{_body.Length}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
                    }
                    else
                    {
                        await Send(stream, $"HTTP/1.1 200 OK\r\nContent-Length: {_body.Length}\r\nAccept-Ranges: {(Mode == ServeMode.Normal ? "bytes" : "none")}\r\nConnection: close\r\n\r\n");
                        await SendBody(stream, 0, _body.Length);
                    }
                    break;
            }
            await stream.FlushAsync();
        }
        catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
        {
            // Client went away or the server is stopping: nothing to do in a test server.
        }
        finally
        {
            client.Dispose();
        }
    }

    private static async Task<string> ReadHeaders(NetworkStream stream)
    {
        var sb = new StringBuilder();
        var buf = new byte[1];
        while (sb.Length < 16384)
        {
            int n = await stream.ReadAsync(buf);
            if (n == 0) break;
            sb.Append((char)buf[0]);
            if (sb.Length >= 4 && sb.ToString(sb.Length - 4, 4) == "\r\n\r\n") break;
        }
        return sb.ToString();
    }

    private Task Send(NetworkStream s, string text) => s.WriteAsync(Encoding.ASCII.GetBytes(text), _stop.Token).AsTask();

    private async Task SendBody(NetworkStream s, int offset, int count)
    {
        // In small chunks so progress gets several reports.
        for (int i = 0; i < count; i += 4096)
        {
            int n = Math.Min(4096, count - i);
            await s.WriteAsync(_body.AsMemory(offset + i, n), _stop.Token);
            Interlocked.Add(ref BodyBytesSent, n);
        }
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        _listener.Stop();
        lock (_clients) foreach (var c in _clients) c.Dispose();
        try { await _loop; } catch (OperationCanceledException) { }
        _stop.Dispose();
    }
}
