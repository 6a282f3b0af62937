import Foundation
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle

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

    /// The calls so far and the scripts.
    public actor Log {
        public private(set) var received: [Received] = []
        private let scripts: [String: [Reply]]

        init(scripts: [String: [Reply]]) { self.scripts = scripts }

        func record(_ request: Received) -> Reply {
            let call = received.filter { $0.path == request.path }.count
            received.append(request)
            let script = scripts[request.path] ?? [Reply(status: 404, body: "no such hook")]
            return script[min(call, script.count - 1)]
        }

        public func received(on path: String) -> [Received] { received.filter { $0.path == path } }
    }

    public let port: Int
    public let log: Log
    private let running: Task<Void, any Error>

    private init(port: Int, log: Log, running: Task<Void, any Error>) {
        self.port = port
        self.log = log
        self.running = running
    }

    /// The URL of `path` on this receiver.
    public func url(_ path: String) -> String { "http://127.0.0.1:\(port)\(path)" }

    /// Starts a receiver on a port the kernel picks.
    public static func start(_ scripts: [String: [Reply]]) async throws -> WebhookReceiver {
        let log = Log(scripts: scripts)
        let router = Router()
        router.post("/**") { request, _ -> Response in
            let body = try await request.body.collect(upTo: 1 << 20)
            var headers: [String: String] = [:]
            for field in request.headers { headers[field.name.canonicalName] = field.value }
            let reply = await log.record(
                Received(path: request.uri.path, headers: headers, body: Array(body.readableBytesView)))
            if reply.delay > .zero { try await Task.sleep(for: reply.delay) }
            var response = Response(
                status: .init(code: reply.status), headers: [.contentType: "text/plain"],
                body: .init(byteBuffer: ByteBuffer(string: reply.body)))
            if let location = reply.location { response.headers[.location] = location }
            return response
        }
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        var logger = Logger(label: "WebhookReceiver")
        logger.logLevel = .critical
        let app = Application(
            router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { channel in
                continuation.yield(channel.localAddress?.port ?? 0)
                continuation.finish()
            }, logger: logger)
        // Test support: the server outlives this call; `stop()` cancels it, which also ends a handler that hangs.
        let group = ServiceGroup(services: [app], gracefulShutdownSignals: [], logger: logger)
        let running = Task {
            defer { continuation.finish() }
            try await group.run()
        }
        var port = 0
        for await bound in ports {
            port = bound
            break
        }
        guard port > 0 else {
            running.cancel()
            throw CancellationError()
        }
        return WebhookReceiver(port: port, log: log, running: running)
    }

    public func stop() async {
        running.cancel()
        _ = await running.result
    }
}
