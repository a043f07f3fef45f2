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
/// It runs on its own threads with blocking sockets (so a busy thread pool cannot delay its answers), never talks to
/// anything but the loopback interface, and stops when disposed.
/// </summary>
internal sealed class MiniHttpServer : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly ManualResetEventSlim _stop = new();
    private readonly byte[] _body;
    private readonly Thread _acceptThread;
    private readonly List<TcpClient> _clients = new();

    public MiniHttpServer(byte[] body, ServeMode mode)
    {
        _body = body;
        Mode = mode;
        _listener.Start();
        _acceptThread = new Thread(AcceptLoop) { IsBackground = true, Name = "MiniHttpServer accept" };
        _acceptThread.Start();
    }

    public ServeMode Mode { get; set; }
    public string Url => $"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}/models/file.pth";
    public List<string?> RangeHeaders { get; } = new();
    public long BodyBytesSent;

    private void AcceptLoop()
    {
        while (!_stop.IsSet)
        {
            TcpClient client;
            try
            {
                client = _listener.AcceptTcpClient();
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException or InvalidOperationException)
            {
                return; // listener stopped
            }
            lock (_clients) _clients.Add(client);
            new Thread(() => Serve(client)) { IsBackground = true, Name = "MiniHttpServer connection" }.Start();
        }
    }

    private void Serve(TcpClient client)
    {
        try
        {
            var stream = client.GetStream();
            string request = ReadHeaders(stream);
            string? range = request.Split("\r\n").FirstOrDefault(l => l.StartsWith("Range:", StringComparison.OrdinalIgnoreCase))?[6..].Trim();
            lock (RangeHeaders) RangeHeaders.Add(range);

            switch (Mode)
            {
                case ServeMode.Hang:
                    _stop.Wait();
                    return;
                case ServeMode.NotFound:
                    Send(stream, "HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\nConnection: close\r\n\r\nnot found");
                    break;
                case ServeMode.Truncate:
                    Send(stream, $"HTTP/1.1 200 OK\r\nContent-Length: {_body.Length}\r\nConnection: close\r\n\r\n");
                    SendBody(stream, 0, _body.Length / 2);
                    break;
                case ServeMode.StallBody:
                    Send(stream, $"HTTP/1.1 200 OK\r\nContent-Length: {_body.Length}\r\nConnection: close\r\n\r\n");
                    SendBody(stream, 0, Math.Min(10, _body.Length));
                    _stop.Wait();
                    return;
                default:
                    long from = 0;
                    if (Mode == ServeMode.Normal && range is not null && range.StartsWith("bytes=", StringComparison.Ordinal) && range.EndsWith('-'))
                        from = long.Parse(range[6..^1]);
                    if (from > 0 && from < _body.Length)
                    {
                        Send(stream, $"HTTP/1.1 206 Partial Content\r\nContent-Range: bytes {from}-{_body.Length - 1}/{_body.Length}\r\n" +
                                     $"Content-Length: {_body.Length - from}\r\nConnection: close\r\n\r\n");
                        SendBody(stream, (int)from, _body.Length - (int)from);
                    }
                    else if (from >= _body.Length && from > 0)
                    {
                        Send(stream, $"HTTP/1.1 416 Range Not Satisfiable\r\nContent-Range: bytes */{_body.Length}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
                    }
                    else
                    {
                        Send(stream, $"HTTP/1.1 200 OK\r\nContent-Length: {_body.Length}\r\nAccept-Ranges: {(Mode == ServeMode.Normal ? "bytes" : "none")}\r\nConnection: close\r\n\r\n");
                        SendBody(stream, 0, _body.Length);
                    }
                    break;
            }
            stream.Flush();
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException)
        {
            // Client went away or the server is stopping: nothing to do in a test server.
        }
        finally
        {
            client.Dispose();
        }
    }

    private static string ReadHeaders(NetworkStream stream)
    {
        var sb = new StringBuilder();
        while (sb.Length < 16384)
        {
            int b = stream.ReadByte();
            if (b < 0) break;
            sb.Append((char)b);
            if (sb.Length >= 4 && sb.ToString(sb.Length - 4, 4) == "\r\n\r\n") break;
        }
        return sb.ToString();
    }

    private static void Send(NetworkStream s, string text) => s.Write(Encoding.ASCII.GetBytes(text));

    private void SendBody(NetworkStream s, int offset, int count)
    {
        // In small chunks so progress gets several reports.
        for (int i = 0; i < count; i += 4096)
        {
            int n = Math.Min(4096, count - i);
            s.Write(_body, offset + i, n);
            Interlocked.Add(ref BodyBytesSent, n);
        }
    }

    public ValueTask DisposeAsync()
    {
        _stop.Set();
        _listener.Stop();
        lock (_clients) foreach (var c in _clients) c.Dispose();
        _acceptThread.Join(TimeSpan.FromSeconds(5));
        return ValueTask.CompletedTask;
    }
}
