import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix

/// RFC 8252 §7.3: the CLI's loopback redirect listener on 127.0.0.1 (works over SSH with `ssh -L`).
public final class LoopbackRedirectListener: Sendable {
    /// The port on 127.0.0.1 the kernel gave (or the one asked for).
    public let port: Int
    /// The path the redirect must come to.
    public let path: String
    private let channel: any Channel
    private let waiter: RedirectWaiter

    private init(port: Int, path: String, channel: any Channel, waiter: RedirectWaiter) {
        self.port = port
        self.path = path
        self.channel = channel
        self.waiter = waiter
    }

    /// Listens on 127.0.0.1:`port` (0: a free port the kernel picks) for GET `path`.
    public static func start(port: Int = 0, path: String = "/callback") async throws -> LoopbackRedirectListener {
        let path = path.hasPrefix("/") ? path : "/" + path
        let waiter = RedirectWaiter(path: path)
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { child in
                child.eventLoop.makeCompletedFuture {
                    try child.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                    try child.pipeline.syncOperations.addHandler(RedirectRequestHandler(waiter: waiter))
                }
            }
            .bind(host: "127.0.0.1", port: port).get()
        guard let bound = channel.localAddress?.port else {
            try? await channel.close()
            throw OAuthError.refused("the redirect listener did not bind on 127.0.0.1", fix: "try another port")
        }
        let listener = LoopbackRedirectListener(port: bound, path: path, channel: channel, waiter: waiter)
        waiter.onFinish = { [channel] in channel.close(promise: nil) }
        return listener
    }

    /// `http://127.0.0.1:PORT/callback`: an IP literal, not `localhost` (RFC 8252 §8.3).
    public var redirectURI: String { "http://127.0.0.1:\(port)\(path)" }

    /// Waits for the browser's redirect carrying `state`; returns the code. A redirect with error= throws the
    /// OAuthError (.accessDenied for access_denied); a wrong/missing state is answered 400 and the wait goes on
    /// (CSRF, RFC 6749 §10.12); other paths 404. After the right redirect it answers a small HTML page
    /// ("postdesk has the authorization; you can close this tab") and stops listening. No redirect within
    /// `timeout` is `.expiredToken`.
    public func waitForCode(state: String, timeout: Duration) async throws -> String {
        let waiter = self.waiter
        return try await withThrowingTaskGroup(of: String.self) { group in
            group.addTask { try await waiter.wait(state: state) }
            group.addTask {
                try await Task.sleep(for: timeout)
                throw OAuthError(
                    kind: .expiredToken,
                    diagnosis: OAuthDiagnosis(
                        summary: "no browser came back to \(self.redirectURI) within \(timeout)",
                        fix: "start the authorization again and finish the sign-in in time (over SSH, forward the "
                            + "port with ssh -L \(self.port):127.0.0.1:\(self.port))"))
            }
            defer { group.cancelAll() }
            guard let code = try await group.next() else { throw CancellationError() }
            return code
        }
    }

    /// Stops listening; a waiting `waitForCode` ends with CancellationError. Idempotent.
    public func close() async {
        waiter.finish(with: .failure(CancellationError()))
        try? await channel.close()
    }
}
