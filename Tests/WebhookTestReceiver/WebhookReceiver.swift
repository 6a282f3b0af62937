// WebhookTestReceiver: an HTTP/1.1 receiver on 127.0.0.1 that records webhook POSTs and answers by script, for the
// dispatcher's and the end-to-end tests. It answers on NIO's event loop, never on the cooperative thread pool: the
// end-to-end suites block pool threads with synchronous CLI runs, and a receiver there answered late enough that the
// dispatcher timed out and retried, which the tests then read as a second delivery.
import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix

/// A webhook receiver on 127.0.0.1 for the dispatcher's and the end-to-end tests: it records every request and answers by the path's
/// script, one answer per call (the last one repeats).
public final class WebhookReceiver: Sendable {
    /// One answer: a status, a body, and how long to wait before answering.
    public struct Reply: Sendable {
        public var status: Int
        public var body: String
        public var delay: Duration
        /// A `Location` header, for a redirect.
        public var location: String?

        public init(status: Int, body: String = "", delay: Duration = .zero, location: String? = nil) {
            self.status = status
            self.body = body
            self.delay = delay
            self.location = location
        }
    }

    /// One request as the receiver got it.
    public struct Received: Sendable {
        public var path: String
        /// By lowercased name.
        public var headers: [String: String]
        public var body: [UInt8]
    }

    /// The calls so far and the scripts; written on the event loop, read by the tests.
    public final class Log: Sendable {
        private let calls = NIOLockedValueBox<[Received]>([])
        private let scripts: [String: [Reply]]

        init(scripts: [String: [Reply]]) { self.scripts = scripts }

        func record(_ request: Received) -> Reply {
            calls.withLockedValue { calls in
                let call = calls.filter { $0.path == request.path }.count
                calls.append(request)
                let script = scripts[request.path] ?? [Reply(status: 404, body: "no such hook")]
                return script[min(call, script.count - 1)]
            }
        }

        /// Every request so far, in order.
        public var received: [Received] { calls.withLockedValue { $0 } }

        /// The requests on `path`, in order. Async so that a test reads it where it awaits the rest.
        public func received(on path: String) async -> [Received] { received.filter { $0.path == path } }
    }

    public let port: Int
    public let log: Log
    private let server: any Channel
    private let connections: NIOLockedValueBox<[ObjectIdentifier: any Channel]>

    private init(
        port: Int, log: Log, server: any Channel, connections: NIOLockedValueBox<[ObjectIdentifier: any Channel]>
    ) {
        self.port = port
        self.log = log
        self.server = server
        self.connections = connections
    }

    /// The URL of `path` on this receiver.
    public func url(_ path: String) -> String { "http://127.0.0.1:\(port)\(path)" }

    /// Starts a receiver on a port the kernel picks.
    public static func start(_ scripts: [String: [Reply]]) async throws -> WebhookReceiver {
        let log = Log(scripts: scripts)
        let connections = NIOLockedValueBox<[ObjectIdentifier: any Channel]>([:])
        let server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                let id = ObjectIdentifier(channel)
                connections.withLockedValue { $0[id] = channel }
                channel.closeFuture.whenComplete { _ in _ = connections.withLockedValue { $0.removeValue(forKey: id) } }
                return channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(ScriptedHandler(log: log))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        guard let port = server.localAddress?.port, port > 0 else {
            try? await server.close()
            throw ChannelError.unknownLocalAddress
        }
        return WebhookReceiver(port: port, log: log, server: server, connections: connections)
    }

    /// Closes the listener and every open connection, which also ends an answer still waiting out its delay.
    public func stop() async {
        try? await server.close()
        for connection in connections.withLockedValue({ Array($0.values) }) { try? await connection.close() }
    }
}

/// Collects one request at a time and answers it by the log's script, after the reply's delay.
private final class ScriptedHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let log: WebhookReceiver.Log
    private var head: HTTPRequestHead?
    private var body: [UInt8] = []
    private var pending: Scheduled<Void>?

    init(log: WebhookReceiver.Log) { self.log = log }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let requestHead):
            head = requestHead
            body = []
        case .body(let chunk):
            // A test receiver: anything past 1 MiB is a bug in the sender, and the request is cut there.
            if body.count < 1 << 20 { body += chunk.readableBytesView }
        case .end:
            guard let requestHead = head else { return }
            head = nil
            var headers: [String: String] = [:]
            for (name, value) in requestHead.headers { headers[name.lowercased()] = value }
            let path = String(requestHead.uri.prefix { $0 != "?" })
            let reply = log.record(.init(path: path, headers: headers, body: body))
            let keepAlive = requestHead.isKeepAlive
            let version = requestHead.version
            let answer = NIOLoopBound((self, context), eventLoop: context.eventLoop)
            pending = context.eventLoop.scheduleTask(in: .nanoseconds(reply.delay.nanoseconds)) {
                let (handler, context) = answer.value
                handler.respond(context: context, reply: reply, version: version, keepAlive: keepAlive)
            }
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        pending?.cancel()
        context.fireChannelInactive()
    }

    private func respond(
        context: ChannelHandlerContext, reply: WebhookReceiver.Reply, version: HTTPVersion, keepAlive: Bool
    ) {
        pending = nil
        var headers = HTTPHeaders([
            ("Content-Type", "text/plain"), ("Content-Length", "\(reply.body.utf8.count)"),
        ])
        if let location = reply.location { headers.add(name: "Location", value: location) }
        if !keepAlive { headers.add(name: "Connection", value: "close") }
        let head = HTTPResponseHead(version: version, status: .init(statusCode: reply.status), headers: headers)
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: reply.body)))), promise: nil)
        let done = context.writeAndFlush(wrapOutboundOut(.end(nil)))
        if !keepAlive {
            let channel = context.channel
            done.whenComplete { _ in channel.close(promise: nil) }
        }
    }
}

extension Duration {
    /// The duration in whole nanoseconds.
    fileprivate var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}
