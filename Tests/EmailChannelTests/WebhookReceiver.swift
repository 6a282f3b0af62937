import Foundation
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle

/// A webhook receiver on 127.0.0.1 for the dispatcher's tests: it records every request and answers by the path's
/// script, one answer per call (the last one repeats).
final class WebhookReceiver: Sendable {
    /// One answer: a status, a body, and how long to wait before answering.
    struct Reply: Sendable {
        var status: Int
        var body: String = ""
        var delay: Duration = .zero
        /// A `Location` header, for a redirect.
        var location: String? = nil
    }

    /// One request as the receiver got it.
    struct Received: Sendable {
        var path: String
        var headers: [String: String]
        var body: [UInt8]
    }

    /// The calls so far and the scripts.
    actor Log {
        private(set) var received: [Received] = []
        private let scripts: [String: [Reply]]

        init(scripts: [String: [Reply]]) { self.scripts = scripts }

        func record(_ request: Received) -> Reply {
            let call = received.filter { $0.path == request.path }.count
            received.append(request)
            let script = scripts[request.path] ?? [Reply(status: 404, body: "no such hook")]
            return script[min(call, script.count - 1)]
        }

        func received(on path: String) -> [Received] { received.filter { $0.path == path } }
    }

    let port: Int
    let log: Log
    private let running: Task<Void, any Error>

    private init(port: Int, log: Log, running: Task<Void, any Error>) {
        self.port = port
        self.log = log
        self.running = running
    }

    /// The URL of `path` on this receiver.
    func url(_ path: String) -> String { "http://127.0.0.1:\(port)\(path)" }

    /// Starts a receiver on a port the kernel picks.
    static func start(_ scripts: [String: [Reply]]) async throws -> WebhookReceiver {
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

    func stop() async {
        running.cancel()
        _ = await running.result
    }
}
