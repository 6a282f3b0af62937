import Logging
import NIOCore

/// An open, greeted (and, when asked, TLS-protected and authenticated) SMTP session; only valid inside
/// `SMTPClient.withConnection`. Send any number of messages over it with `transaction` (or `send`, which throws
/// on refusal); each reply has the endpoint's deadline.
///
/// Not `Sendable`: its methods run on the caller's executor (`nonisolated(nonsending)`), so an actor can use
/// it inside `withConnection` without handing it to another isolation domain.
public final class SMTPConnection {
    /// What the server announced in its last EHLO (after STARTTLS, the post-TLS list); empty after HELO.
    public private(set) var capabilities = SMTPCapabilities()
    /// The server's greeting, verbatim (e.g. `220 mx.example ESMTP`).
    public private(set) var greeting: SMTPReply?

    private let channel: any Channel
    private var inbound: NIOAsyncChannelInboundStream<SMTPReply>.AsyncIterator
    private let outbound: NIOAsyncChannelOutboundWriter<SMTPCommand>
    private let endpoint: MailServerEndpoint
    private let logger: Logger

    init(
        channel: any Channel,
        inbound: NIOAsyncChannelInboundStream<SMTPReply>.AsyncIterator,
        outbound: NIOAsyncChannelOutboundWriter<SMTPCommand>,
        endpoint: MailServerEndpoint,
        logger: Logger
    ) {
        self.channel = channel
        self.inbound = inbound
        self.outbound = outbound
        self.endpoint = endpoint
        self.logger = logger
    }

    /// Sends one message in this session and throws when it was not taken: MAIL FROM, RCPT TO for each recipient,
    /// DATA, content (see `transaction` for the details).
    ///
    /// Recipients the server refuses are listed in the receipt; when it refuses all of them, or refuses MAIL or
    /// DATA, this throws `.commandRejected` with the server's words (the session stays usable); a 421 is
    /// `.connectionClosed`; an address that cannot be sent is `.protocolViolation`.
    nonisolated(nonsending) public func send(_ message: [UInt8], from envelopeFrom: String, to recipients: [String])
        async throws
        -> SMTPSendReceipt
    {
        switch try await transaction(message, from: envelopeFrom, to: recipients) {
        case .accepted(let receipt):
            return receipt
        case .senderRefused(let reply):
            throw Self.rejection("the server refused the sender (MAIL FROM)", reply)
        case .recipientsRefused(let rejections):
            let last = rejections.last?.reply ?? SMTPReply(code: 554, lines: ["no valid recipients"])
            throw Self.rejection("the server refused all \(rejections.count) recipients (RCPT TO)", last)
        case .dataRefused(let reply, _):
            throw Self.rejection("the server refused DATA", reply)
        case .contentRefused(let reply, _):
            throw Self.rejection("the server refused the message after DATA", reply)
        case .serverClosing(let reply):
            throw MailClientError(
                .connectionClosed, "the server is closing the connection", serverText: reply.verbatim,
                replyCode: reply.code)
        case .unsendable(let reason):
            throw MailClientError(.protocolViolation, reason)
        }
    }

    /// Runs one mail transaction in this session (RFC 5321 §3.3): MAIL FROM, RCPT TO for each recipient, DATA,
    /// content, and returns what the server made of it. Throws only when the session itself fails (timeout,
    /// closed connection, a reply the protocol does not allow): then nothing more can be sent over it.
    ///
    /// `envelopeFrom` may be empty (the null reverse-path `<>`, RFC 5321 §4.5.5). Adds `SIZE=` when SIZE is
    /// offered (RFC 1870) and `BODY=8BITMIME` when the message has 8-bit bytes and 8BITMIME is offered
    /// (RFC 6152); a server without 8BITMIME gets the bytes anyway, as nearly all relays accept them. After a
    /// refusal of MAIL, of every RCPT or of DATA this sends RSET (RFC 5321 §4.1.1.5), so the next transaction
    /// starts clean; after the content's final reply the transaction is over either way (§4.1.1.4). After a 421
    /// nothing is sent: the server is closing the session (§3.8).
    nonisolated(nonsending) public func transaction(
        _ message: [UInt8],
        from envelopeFrom: String,
        to recipients: [String]
    ) async throws -> SMTPTransactionOutcome {
        guard !recipients.isEmpty else { return .unsendable("a message needs at least one recipient") }
        do {
            if !envelopeFrom.isEmpty { try SMTPCommand.validatePath(envelopeFrom) }
            for recipient in recipients { try SMTPCommand.validatePath(recipient) }
        } catch let error as MailClientError {
            return .unsendable(error.message)
        }
        let needsUTF8 = ([envelopeFrom] + recipients).contains { address in address.utf8.contains { $0 >= 0x80 } }
        if needsUTF8 && !capabilities.supportsSMTPUTF8 {
            return .unsendable("an address is not ASCII, but the server does not offer SMTPUTF8 (RFC 6531)")
        }
        let parameters = SMTPMailParameters(
            size: capabilities.supportsSize ? message.count : nil,
            eightBitMIME: capabilities.supports8BitMIME && SMTPMessageContent.has8BitBytes(message),
            smtpUTF8: needsUTF8
        )

        let mailReply = try await execute(.mailFrom(envelopeFrom, parameters: parameters))
        if mailReply.code == 421 { return .serverClosing(mailReply) }
        guard mailReply.isPositiveCompletion else {
            await resetQuietly()
            return .senderRefused(mailReply)
        }
        var accepted: [String] = []
        var rejected: [SMTPRecipientRejection] = []
        for recipient in recipients {
            let reply = try await execute(.rcptTo(recipient))
            if reply.code == 421 { return .serverClosing(reply) }
            if reply.isPositiveCompletion {
                accepted.append(recipient)
            } else {
                rejected.append(SMTPRecipientRejection(address: recipient, reply: reply))
            }
        }
        if accepted.isEmpty {
            await resetQuietly()
            return .recipientsRefused(rejected)
        }
        let dataReply = try await execute(.data)
        if dataReply.code == 421 { return .serverClosing(dataReply) }
        guard dataReply.code == 354 else {
            await resetQuietly()
            return .dataRefused(dataReply, rejectedRecipients: rejected)
        }
        let finalReply = try await execute(.messageContent(message))
        if finalReply.code == 421 { return .serverClosing(finalReply) }
        guard finalReply.isPositiveCompletion else {
            return .contentRefused(finalReply, rejectedRecipients: rejected)
        }
        logger.debug(
            "message accepted",
            metadata: [
                "smtp.reply.code": "\(finalReply.code)", "smtp.recipients.accepted": "\(accepted.count)",
                "smtp.recipients.rejected": "\(rejected.count)",
            ]
        )
        return .accepted(
            SMTPSendReceipt(finalReply: finalReply, acceptedRecipients: accepted, rejectedRecipients: rejected))
    }

    /// Asks whether the server takes mail from `envelopeFrom`, sending none: MAIL FROM, then RSET when it was
    /// accepted (RFC 5321 §4.1.1.5). Returns the reply to MAIL FROM, whatever its code.
    nonisolated(nonsending) public func checkSender(_ envelopeFrom: String) async throws -> SMTPReply {
        if !envelopeFrom.isEmpty { try SMTPCommand.validatePath(envelopeFrom) }
        let needsUTF8 = envelopeFrom.utf8.contains { $0 >= 0x80 }
        let reply = try await execute(
            .mailFrom(
                envelopeFrom, parameters: SMTPMailParameters(smtpUTF8: needsUTF8 && capabilities.supportsSMTPUTF8)))
        if reply.isPositiveCompletion { try await reset() }
        return reply
    }

    /// Sends NOOP and returns the reply (a cheap liveness check, RFC 5321 §4.1.1.9).
    @discardableResult
    nonisolated(nonsending) public func noop() async throws -> SMTPReply {
        let reply = try await execute(.noop)
        guard reply.isPositiveCompletion else { throw Self.rejection("the server refused NOOP", reply) }
        return reply
    }

    /// Sends RSET, abandoning a half-built transaction (RFC 5321 §4.1.1.5).
    nonisolated(nonsending) public func reset() async throws {
        let reply = try await execute(.reset)
        guard reply.isPositiveCompletion else { throw Self.rejection("the server refused RSET", reply) }
    }

    /// Sends one command and waits for its reply. Replies of any code are returned, not thrown.
    nonisolated(nonsending) func execute(_ command: SMTPCommand) async throws -> SMTPReply {
        logger.trace("smtp command", metadata: ["smtp.command": "\(command)"])
        do {
            try await outbound.write(command)
        } catch {
            throw try await failureAfterWrite(error)
        }
        return try await nextReply()
    }

    /// A failed write usually means the handler failed the channel; its error is on the inbound side.
    nonisolated(nonsending) private func failureAfterWrite(_ error: any Error) async throws -> MailClientError {
        do {
            _ = try await inbound.next(isolation: #isolation)
        } catch {
            return MailTransport.mailClientError(for: error, endpoint: endpoint)
        }
        return MailTransport.mailClientError(for: error, endpoint: endpoint)
    }

    nonisolated(nonsending) private func nextReply() async throws -> SMTPReply {
        let reply: SMTPReply?
        do {
            reply = try await inbound.next(isolation: #isolation)
        } catch {
            throw MailTransport.mailClientError(for: error, endpoint: endpoint)
        }
        guard let reply else {
            // The inbound stream also ends when the waiting task is cancelled.
            try Task.checkCancellation()
            throw MailClientError(.connectionClosed, "the SMTP server closed the connection")
        }
        logger.trace("smtp reply", metadata: ["smtp.reply.code": "\(reply.code)"])
        return reply
    }

    /// Greeting, EHLO/HELO, STARTTLS per the endpoint, AUTH when credentials are given.
    nonisolated(nonsending) func open(heloName: String, credentials: MailCredentials?) async throws {
        let greeting = try await nextReply()
        self.greeting = greeting
        // RFC 5321 §3.1: 220 is the greeting; 554 means "no service here".
        guard greeting.code == 220 else { throw Self.rejection("the server refused the session", greeting) }
        try await hello(heloName)
        if endpoint.tls == .starttls {
            guard capabilities.supportsStartTLS else {
                throw MailClientError(
                    .starttlsNotOffered,
                    "the server does not offer STARTTLS (its EHLO reply lacks it)",
                    serverText: greeting.verbatim
                )
            }
            let reply = try await execute(.startTLS)
            guard reply.code == 220 else { throw Self.rejection("the server refused STARTTLS", reply) }
            try await MailTransport.startTLS(on: channel, endpoint: endpoint, logger: logger)
            // RFC 3207 §4.2: forget what was learnt before TLS and ask again.
            capabilities = SMTPCapabilities()
            try await hello(heloName)
        }
        if let credentials { try await authenticate(credentials) }
    }

    /// EHLO, falling back to HELO when the server does not know EHLO (RFC 5321 §3.2).
    nonisolated(nonsending) private func hello(_ heloName: String) async throws {
        let reply = try await execute(.ehlo(heloName))
        if reply.isPositiveCompletion {
            capabilities = SMTPCapabilities.parse(ehloReply: reply)
            return
        }
        guard reply.isPermanentFailure else { throw Self.rejection("the server refused EHLO", reply) }
        let heloReply = try await execute(.helo(heloName))
        guard heloReply.isPositiveCompletion else { throw Self.rejection("the server refused HELO", heloReply) }
        capabilities = SMTPCapabilities()
    }

    /// AUTH PLAIN when offered, else AUTH LOGIN (RFC 4954 §4); AUTH OAUTHBEARER (RFC 7628) or XOAUTH2 for an OAuth 2.0
    /// access token, as its `OAuthMechanism` says (`.automatic`: OAUTHBEARER when EHLO offers it, else XOAUTH2).
    nonisolated(nonsending) private func authenticate(_ credentials: MailCredentials) async throws {
        let mechanisms = capabilities.authenticationMechanisms
        if case .oauth2AccessToken(let accessToken, let requested) = credentials.secret {
            let mechanism: SASLOAuthMechanism
            do {
                mechanism = try SASLOAuthMechanism.choose(requested, offered: mechanisms)
            } catch var error as MailClientError {
                if endpoint.tls == .none && capabilities.supportsStartTLS {
                    error.message += " (the server may offer AUTH only after STARTTLS)"
                }
                throw error
            }
            try await authenticateOAuth(mechanism, username: credentials.username, accessToken: accessToken)
        } else if mechanisms.contains("PLAIN") {
            let initialResponse = try SASLMechanismEncoding.plainInitialResponse(
                username: credentials.username,
                password: credentials.password
            )
            var reply = try await execute(.authPlain(initialResponse: initialResponse))
            if reply.code == 334 {
                // A server that ignores the initial response asks with an empty challenge (RFC 4954 §4).
                reply = try await execute(.authResponse(initialResponse))
            }
            try Self.checkAuthenticationReply(reply)
        } else if mechanisms.contains("LOGIN") {
            var reply = try await execute(.authLogin)
            guard reply.code == 334 else { return try Self.checkAuthenticationReply(reply) }
            reply = try await execute(.authResponse(SASLMechanismEncoding.base64(credentials.username.utf8)))
            guard reply.code == 334 else { return try Self.checkAuthenticationReply(reply) }
            reply = try await execute(.authResponse(SASLMechanismEncoding.base64(credentials.password.utf8)))
            try Self.checkAuthenticationReply(reply)
        } else {
            let offered = mechanisms.isEmpty ? "none" : mechanisms.joined(separator: " ")
            let hint =
                endpoint.tls == .none && capabilities.supportsStartTLS
                ? " (the server may offer AUTH only after STARTTLS)" : ""
            throw MailClientError(
                .authenticationMechanismUnsupported,
                "the server offers no AUTH mechanism we speak (PLAIN, LOGIN); offered: \(offered)\(hint)"
            )
        }
        logger.debug("smtp authenticated")
    }

    // RFC 4954 §4: "AUTH" SP sasl-mech [SP initial-response] *(CRLF [base64]) [CRLF cancel-response] CRLF
    /// AUTH OAUTHBEARER or XOAUTH2 with the initial response. A 334 error challenge (base64 JSON, RFC 7628 §3.2.2)
    /// is answered with a lone %x01 (OAUTHBEARER, §3.2.3) or an empty line (XOAUTH2); the 535/534 that follows is
    /// thrown with the decoded JSON in `serverText` and `oauthFailure`.
    nonisolated(nonsending) private func authenticateOAuth(
        _ mechanism: SASLOAuthMechanism, username: String, accessToken: String
    ) async throws {
        let initialResponse = try SASLMechanismEncoding.oauthInitialResponse(
            mechanism, username: username, accessToken: accessToken, host: endpoint.host, port: endpoint.port)
        var reply = try await execute(
            mechanism == .xoauth2
                ? .authXOAuth2(initialResponse: initialResponse) : .authOAuthBearer(initialResponse: initialResponse))
        var errorChallenge: (text: String, failure: OAuthBearerFailure?)?
        if reply.code == 334 {
            errorChallenge = SASLMechanismEncoding.oauthErrorChallenge(reply.lines.joined())
            reply = try await execute(.authResponse(SASLMechanismEncoding.errorChallengeAnswer(mechanism)))
        }
        do {
            try Self.checkAuthenticationReply(reply)
        } catch var error as MailClientError {
            error.serverText = SASLMechanismEncoding.oauthServerText(
                errorChallenge: errorChallenge?.text, finalText: reply.verbatim)
            error.oauthFailure = errorChallenge?.failure
            if error.code == .authenticationFailed {
                error.message = "the server refused the OAuth 2.0 access token (\(mechanism.name))"
            }
            throw error
        }
    }

    /// 235 is success (RFC 4954 §6); 535 bad credentials and 534 "log in via the web" are authentication
    /// failures; other codes are rejections.
    private static func checkAuthenticationReply(_ reply: SMTPReply) throws {
        if reply.code == 235 { return }
        if reply.code == 535 || reply.code == 534 {
            throw MailClientError(
                .authenticationFailed,
                "the server refused the user name or password",
                serverText: reply.verbatim,
                replyCode: reply.code
            )
        }
        throw rejection("the server refused AUTH", reply)
    }

    /// QUIT (RFC 5321 §4.1.1.10), ignoring failures: the message was already accepted or not.
    nonisolated(nonsending) func quit() async {
        do {
            _ = try await execute(.quit)
        } catch {
            logger.debug("smtp QUIT failed", metadata: ["error": "\(error)"])
        }
    }

    nonisolated(nonsending) private func resetQuietly() async {
        do {
            _ = try await execute(.reset)
        } catch {
            logger.debug("smtp RSET failed", metadata: ["error": "\(error)"])
        }
    }

    private static func rejection(_ message: String, _ reply: SMTPReply) -> MailClientError {
        MailClientError(.commandRejected, message, serverText: reply.verbatim, replyCode: reply.code)
    }
}

@available(*, unavailable)
extension SMTPConnection: Sendable {}
