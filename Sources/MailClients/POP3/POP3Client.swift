import Logging
import NIOCore

/// Entry point of the POP3 client (RFC 1939): a scoped session with a maildrop.
public enum POP3Client {
    /// Connects, reads the greeting, upgrades with STLS when `endpoint.tls` is `.starttls` (RFC 2595), runs
    /// `body`, then closes.
    ///
    /// Deletions (`delete(_:)`) take effect only if `body` calls `quit()`: leaving without `quit()` — returning
    /// or throwing — closes the connection without QUIT, so the server never enters the UPDATE state and
    /// deletes nothing (RFC 1939 §6). Every answer has the deadline `endpoint.commandTimeout`.
    public static func withConnection<R: Sendable>(
        to endpoint: MailServerEndpoint,
        logger: Logger,
        isolation: isolated (any Actor)? = #isolation,
        _ body: (POP3Connection) async throws -> R
    ) async throws -> R {
        let responseTimeout = TimeAmount(endpoint.commandTimeout)
        let channel = try await MailTransport.connect(
            to: endpoint,
            inboundType: POP3Response.self,
            outboundType: POP3Command.self,
            logger: logger
        ) { pipeline in
            try pipeline.addHandler(POP3ClientHandler(responseTimeout: responseTimeout))
        }
        // Errors of our own steps are already MailClientErrors; errors thrown by `body` pass through unchanged.
        return try await channel.executeThenClose { inbound, outbound in
            let connection = POP3Connection(
                channel: channel.channel,
                inbound: inbound.makeAsyncIterator(),
                outbound: outbound,
                endpoint: endpoint,
                logger: logger
            )
            try await connection.open()
            return try await body(connection)
        }
    }
}
