import Foundation
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import PostdeskWire

/// HTTP/1.1 on the admin socket, with every accepted connection's peer credentials checked
/// before any request reaches the routes: a refused peer gets one 403 with the reason, and the
/// refusal is logged.
struct AdminSocketChannel: ServerChildChannel {
    /// An accepted connection with the verdict on its peer.
    struct Value: ServerChildChannelValue {
        var http: HTTP1Channel.Value
        /// Nil when the peer may use the API.
        var refusal: String?
        var channel: any Channel { http.channel }
    }

    let http: HTTP1Channel
    let policy: AdminAccessPolicy

    /// A server builder for `Application(router:server:)`.
    static func builder(policy: AdminAccessPolicy) -> HTTPServerBuilder {
        HTTPServerBuilder { responder in
            AdminSocketChannel(http: HTTP1Channel(responder: responder), policy: policy)
        }
    }

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        let policy = self.policy
        let http = self.http
        return PeerCredentials.of(channel).map { Optional($0) }.recover { _ in nil }.flatMap { peer in
            let refusal: String?
            if let peer {
                refusal = policy.refusal(for: peer)
                if let refusal {
                    logger.warning(
                        "admin socket connection refused",
                        metadata: [
                            "peer.uid": "\(peer.uid)", "peer.gid": "\(peer.gid)", "peer.pid": "\(peer.pid)",
                            "reason": "\(refusal)",
                        ])
                }
            } else {
                refusal = "permission denied: the peer's credentials cannot be read"
                logger.warning("admin socket connection refused: the peer's credentials (SO_PEERCRED) cannot be read")
            }
            return http.setup(channel: channel, logger: logger).map { Value(http: $0, refusal: refusal) }
        }
    }

    func handle(value: Value, logger: Logger) async {
        guard let refusal = value.refusal else { return await http.handle(value: value.http, logger: logger) }
        let body = ByteBuffer(data: (try? AdminJSON.encoder().encode(ErrorBody(error: refusal))) ?? Data())
        do {
            try await value.http.executeThenClose { inbound, outbound in
                // Wait for the request head so the client has finished writing; its body is never read.
                var parts = inbound.makeAsyncIterator()
                _ = try await parts.next()
                let head = HTTPResponse(
                    status: .forbidden,
                    headerFields: [
                        .contentType: "application/json", .contentLength: String(body.readableBytes),
                        .connection: "close",
                    ])
                try await ResponseWriter(outbound: outbound).write(response: head, body: ResponseBody(byteBuffer: body))
            }
        } catch {
            logger.debug("refused admin socket connection ended: \(error)")
        }
    }
}
