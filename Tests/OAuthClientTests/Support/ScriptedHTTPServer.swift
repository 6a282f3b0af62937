import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix

/// A tiny HTTP/1.1 server on 127.0.0.1 for answers no real authorization server gives (not JSON, too large, 5xx,
/// no answer at all): it records each request and answers it from the test's script.
final class ScriptedHTTPServer: Sendable {
    /// One request as it arrived.
    struct Request: Sendable {
        var method: String
        var uri: String
        var headers: HTTPHeaders
        var body: String
    }

    /// What to answer; `nil` from the script means never answer (the connection stays open).
    struct Reply: Sendable {
        var status: Int
        var contentType: String = "application/json"
        var body: [UInt8]

        /// A reply with a text body.
        static func text(_ status: Int, _ body: String, contentType: String = "application/json") -> Reply {
            Reply(status: status, contentType: contentType, body: Array(body.utf8))
        }
    }

    private let channel: any Channel
    private let log: RequestLog
    /// `http://127.0.0.1:PORT`.
    let baseURL: String

    private init(channel: any Channel, log: RequestLog, baseURL: String) {
        self.channel = channel
        self.log = log
        self.baseURL = baseURL
    }

    /// Starts a server on a free port whose every request is answered by `script`.
    static func start(_ script: @escaping @Sendable (Request) -> Reply?) async throws -> ScriptedHTTPServer {
        let log = RequestLog()
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { child in
                child.eventLoop.makeCompletedFuture {
                    try child.pipeline.syncOperations.configureHTTPServerPipeline()
                    try child.pipeline.syncOperations.addHandler(ScriptedHandler(log: log, script: script))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        let port = channel.localAddress?.port ?? 0
        return ScriptedHTTPServer(channel: channel, log: log, baseURL: "http://127.0.0.1:\(port)")
    }

    /// The requests so far.
    var requests: [Request] { log.requests }

    /// Stops listening.
    func stop() async {
        try? await channel.close()
    }
}

/// The requests a scripted server received.
private final class RequestLog: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: [ScriptedHTTPServer.Request] = []

    func append(_ request: ScriptedHTTPServer.Request) { lock.withLock { stored.append(request) } }
    var requests: [ScriptedHTTPServer.Request] { lock.withLock { stored } }
}

/// Reads one request (head and body) and writes the script's reply.
private final class ScriptedHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let log: RequestLog
    private let script: @Sendable (ScriptedHTTPServer.Request) -> ScriptedHTTPServer.Reply?
    private var head: HTTPRequestHead?
    private var body = ByteBuffer()

    init(log: RequestLog, script: @escaping @Sendable (ScriptedHTTPServer.Request) -> ScriptedHTTPServer.Reply?) {
        self.log = log
        self.script = script
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
            body.clear()
        case .body(var chunk):
            body.writeBuffer(&chunk)
        case .end:
            guard let head else { return }
            let request = ScriptedHTTPServer.Request(
                method: head.method.rawValue, uri: head.uri, headers: head.headers, body: String(buffer: body))
            log.append(request)
            guard let reply = script(request) else { return }
            var headers = HTTPHeaders()
            headers.add(name: "Content-Type", value: reply.contentType)
            headers.add(name: "Content-Length", value: String(reply.body.count))
            context.write(
                wrapOutboundOut(
                    .head(
                        HTTPResponseHead(version: .http1_1, status: .init(statusCode: reply.status), headers: headers))),
                promise: nil)
            context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(bytes: reply.body)))), promise: nil)
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        }
    }
}
