import Logging
import NIOCore

/// Entry points of the SMTP submission client (RFC 5321, RFC 6409): one message, or a scoped session.
public enum SMTPClient {
    /// Sends one message through a submission relay: connect, EHLO, STARTTLS per endpoint.tls, AUTH if credentials,
    /// MAIL, RCPT…, DATA, QUIT.
    ///
    /// `message` is the complete RFC 5322 message; bare LFs become CRLF and lines starting with "." are
    /// dot-stuffed on the wire. Returns the relay's final reply and which recipients it refused; throws a
    /// `MailClientError` when nothing was sent (`.authenticationFailed` for 535, `.commandRejected` with the
    /// reply code and words for other 4xx/5xx, including every recipient refused).
    public static func send(
        _ message: [UInt8],
        from envelopeFrom: String,
        to recipients: [String],
        via endpoint: MailServerEndpoint,
        credentials: MailCredentials?,
        heloName: String,
        logger: Logger
    ) async throws -> SMTPSendReceipt {
        try await withConnection(to: endpoint, credentials: credentials, heloName: heloName, logger: logger) {
            connection in
            try await connection.send(message, from: envelopeFrom, to: recipients)
        }
    }

    /// Opens an authenticated session, runs `body` with it, then says QUIT and closes, also when `body` throws.
    ///
    /// Before `body` runs: greeting (220), EHLO (HELO when EHLO is refused), STARTTLS and a second EHLO when
    /// `endpoint.tls` is `.starttls` (RFC 3207 §4.2), AUTH PLAIN or LOGIN when `credentials` are given
    /// (RFC 4954). Every reply has the deadline `endpoint.commandTimeout`.
    public static func withConnection<R: Sendable>(
        to endpoint: MailServerEndpoint,
        credentials: MailCredentials?,
        heloName: String,
        logger: Logger,
        isolation: isolated (any Actor)? = #isolation,
        _ body: (SMTPConnection) async throws -> R
    ) async throws -> R {
        try SMTPCommand.validateDomain(heloName)
        let replyTimeout = TimeAmount(endpoint.commandTimeout)
        let channel = try await MailTransport.connect(
            to: endpoint,
            inboundType: SMTPReply.self,
            outboundType: SMTPCommand.self,
            logger: logger
        ) { pipeline in
            try pipeline.addHandler(SMTPClientHandler(replyTimeout: replyTimeout))
        }
        // Errors of our own steps are already MailClientErrors; errors thrown by `body` pass through unchanged.
        return try await channel.executeThenClose { inbound, outbound in
            let connection = SMTPConnection(
                channel: channel.channel,
                inbound: inbound.makeAsyncIterator(),
                outbound: outbound,
                endpoint: endpoint,
                logger: logger
            )
            try await connection.open(heloName: heloName, credentials: credentials)
            let result = try await body(connection)
            await connection.quit()
            return result
        }
    }
}
