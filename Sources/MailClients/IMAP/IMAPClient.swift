import Logging
import NIOCore
import NIOPosix

/// Opens IMAP4rev1 sessions (RFC 3501) over the shared `MailTransport`.
///
/// ```swift
/// let newMail = try await IMAPClient.withConnection(to: endpoint, logger: logger) { imap in
///     try await imap.login(credentials)
///     let inbox = try await imap.select("INBOX")
///     return try await imap.uidSearch("UID \(watermark):* UNSEEN UNDELETED")
/// }
/// ```
public enum IMAPClient {
    /// Connects to `endpoint`, reads the greeting, upgrades with STARTTLS when `endpoint.tls == .starttls`,
    /// learns the capabilities, runs `body`, then logs out and closes the connection (also when `body` throws).
    ///
    /// `body` runs in the caller's isolation; the `IMAPConnection` must not escape it. Every error thrown by the
    /// client is a `MailClientError`.
    public static func withConnection<R: Sendable>(
        to endpoint: MailServerEndpoint,
        logger: Logger,
        limits: IMAPFrameLimits = IMAPFrameLimits(),
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        isolation: isolated (any Actor)? = #isolation,
        _ body: (IMAPConnection) async throws -> R
    ) async throws -> R {
        let commandTimeout = TimeAmount(endpoint.commandTimeout)
        let asyncChannel = try await MailTransport.connect(
            to: endpoint,
            inboundType: IMAPResponse.self,
            outboundType: IMAPClientRequest.self,
            eventLoopGroup: eventLoopGroup,
            logger: logger
        ) { pipeline in
            try pipeline.addHandler(IMAPClientHandler(commandTimeout: commandTimeout, limits: limits))
        }
        return try await asyncChannel.executeThenClose { inbound, outbound in
            let connection = IMAPConnection(
                channel: asyncChannel.channel,
                inbound: inbound.makeAsyncIterator(),
                outbound: outbound,
                endpoint: endpoint,
                logger: logger
            )
            try await connection.open()
            let result: R
            do {
                result = try await body(connection)
            } catch {
                await connection.logout()
                throw error
            }
            await connection.logout()
            return result
        }
    }
}
