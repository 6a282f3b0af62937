import Logging
import NIOCore

/// An open, greeted (and, when asked, STLS-protected) POP3 session; only valid inside
/// `POP3Client.withConnection`. Log in first, then list, fetch and mark messages for deletion.
///
/// **Deletion needs `quit()`.** `delete(_:)` only marks a message; the server removes marked messages when it
/// receives QUIT (the UPDATE state, RFC 1939 §6). A session that ends any other way — `withConnection`'s body
/// returns or throws without `quit()`, a timeout, a dropped connection — deletes nothing.
///
/// Not `Sendable`: its methods run on the caller's executor (`nonisolated(nonsending)`), so an actor can use
/// it inside `withConnection` without handing it to another isolation domain.
public final class POP3Connection {
    /// The server's greeting (`+OK …`, with an APOP timestamp when APOP is offered).
    public private(set) var greeting = POP3Response(status: .ok, text: "")

    private var cachedCapabilities: POP3Capabilities?
    private var quitSent = false
    private let channel: any Channel
    private var inbound: NIOAsyncChannelInboundStream<POP3Response>.AsyncIterator
    private let outbound: NIOAsyncChannelOutboundWriter<POP3Command>
    private let endpoint: MailServerEndpoint
    private let logger: Logger

    init(
        channel: any Channel,
        inbound: NIOAsyncChannelInboundStream<POP3Response>.AsyncIterator,
        outbound: NIOAsyncChannelOutboundWriter<POP3Command>,
        endpoint: MailServerEndpoint,
        logger: Logger
    ) {
        self.channel = channel
        self.inbound = inbound
        self.outbound = outbound
        self.endpoint = endpoint
        self.logger = logger
    }

    /// The server's capabilities (CAPA, RFC 2449), cached until STLS or login; empty when the server
    /// answers CAPA with -ERR (a plain RFC 1939 server).
    nonisolated(nonsending) public func capabilities() async throws -> POP3Capabilities {
        if let cachedCapabilities { return cachedCapabilities }
        let response = try await execute(.capa)
        let capabilities =
            response.status == .ok ? POP3Capabilities.parse(capaBody: response.body ?? []) : POP3Capabilities()
        cachedCapabilities = capabilities
        return capabilities
    }

    /// Logs in: AUTH PLAIN (RFC 5034) when CAPA offers SASL PLAIN and `preferSASLPlain`, else USER/PASS
    /// (RFC 1939 §7). An OAuth 2.0 access token uses AUTH OAUTHBEARER (RFC 7628) or XOAUTH2 as its
    /// `OAuthMechanism` says (`.automatic`: OAUTHBEARER when CAPA lists it under SASL, else XOAUTH2;
    /// `.authenticationMechanismUnsupported` naming the offered mechanisms when neither fits).
    ///
    /// A refusal is `.authenticationFailed` with the server's status line verbatim as `serverText`
    /// (e.g. Outlook's `-ERR Logon failure: unknown user name or bad password.`), unless its response code says
    /// the credentials are not the problem — `[SYS/TEMP]`, `[SYS/PERM]`, `[IN-USE]`, `[LOGIN-DELAY]`
    /// (RFC 2449 §8, RFC 3206) — which is `.commandRejected`. Read the code with `POP3Response.responseCode(in:)`.
    nonisolated(nonsending) public func login(_ credentials: MailCredentials, preferSASLPlain: Bool = true) async throws
    {
        let capabilities = try await capabilities()
        if case .oauth2AccessToken(let accessToken, let requested) = credentials.secret {
            let mechanism = try SASLOAuthMechanism.choose(requested, offered: capabilities.saslMechanisms)
            try await authenticateOAuth(mechanism, username: credentials.username, accessToken: accessToken)
        } else if preferSASLPlain && capabilities.saslMechanisms.contains("PLAIN") {
            let initialResponse = try SASLMechanismEncoding.plainInitialResponse(
                username: credentials.username,
                password: credentials.password
            )
            var response = try await execute(.authPlain(initialResponse: initialResponse))
            if response.status == .continuation {
                // A server that does not take the initial response asks with an empty challenge (RFC 5034 §4).
                response = try await execute(.authResponse(initialResponse))
            }
            try Self.checkLogin(response, step: "AUTH PLAIN")
        } else if !capabilities.supportsUser && capabilities.saslMechanisms.contains("LOGIN") {
            // A server that offers SASL LOGIN but not USER/PASS: two challenges, user name then password.
            var response = try await execute(.authLogin)
            for answer in [credentials.username, credentials.password] where response.status == .continuation {
                response = try await execute(.authResponse(SASLMechanismEncoding.base64(Array(answer.utf8))))
            }
            try Self.checkLogin(response, step: "AUTH LOGIN")
        } else {
            try Self.checkLogin(try await execute(.user(credentials.username)), step: "USER")
            try Self.checkLogin(try await execute(.pass(credentials.password)), step: "PASS")
        }
        // RFC 2449 §5: the capabilities may differ once logged in; ask again when next needed.
        cachedCapabilities = nil
        logger.debug("pop3 logged in")
    }

    // RFC 5034 §4: auth = "AUTH" SP sasl-mech [SP initial-response] *(CRLF [base64]) [CRLF cancel-response] CRLF
    /// AUTH OAUTHBEARER or XOAUTH2: with the initial response on the command line when the line stays within 255
    /// octets (RFC 5034 §4), else after the server's empty challenge (Microsoft's servers ask that way). An error
    /// challenge (base64 JSON, RFC 7628 §3.2.2) is answered with a lone %x01 (OAUTHBEARER, §3.2.3) or an empty line
    /// (XOAUTH2); the `-ERR` that follows is thrown with the decoded JSON in `serverText` and `oauthFailure`.
    nonisolated(nonsending) private func authenticateOAuth(
        _ mechanism: SASLOAuthMechanism, username: String, accessToken: String
    ) async throws {
        let initialResponse = try SASLMechanismEncoding.oauthInitialResponse(
            mechanism, username: username, accessToken: accessToken, host: endpoint.host, port: endpoint.port)
        let fitsOnLine = "AUTH \(mechanism.name) ".utf8.count + initialResponse.utf8.count + 2 <= 255
        let onLine = fitsOnLine ? initialResponse : nil
        var response = try await execute(
            mechanism == .xoauth2
                ? .authXOAuth2(initialResponse: onLine) : .authOAuthBearer(initialResponse: onLine))
        var responded = fitsOnLine
        var errorChallenge: (text: String, failure: OAuthBearerFailure?)?
        while response.status == .continuation {
            if responded {
                guard errorChallenge == nil else {
                    throw MailClientError(
                        .protocolViolation, "the server sent a second challenge after the \(mechanism.name) error",
                        serverText: response.statusLine)
                }
                errorChallenge = SASLMechanismEncoding.oauthErrorChallenge(response.text)
                response = try await execute(.authResponse(SASLMechanismEncoding.errorChallengeAnswer(mechanism)))
            } else {
                responded = true
                response = try await execute(.authResponse(initialResponse))
            }
        }
        do {
            try Self.checkLogin(response, step: "AUTH \(mechanism.name)")
        } catch var error as MailClientError {
            error.serverText = SASLMechanismEncoding.oauthServerText(
                errorChallenge: errorChallenge?.text, finalText: response.statusLine)
            error.oauthFailure = errorChallenge?.failure
            throw error
        }
    }

    /// Logs in with APOP (RFC 1939 §7): MD5 of the greeting's timestamp and the password, so the password is
    /// never sent. `.authenticationMechanismUnsupported` when the greeting has no timestamp.
    nonisolated(nonsending) public func apop(_ credentials: MailCredentials) async throws {
        guard let timestamp = greeting.apopTimestamp else {
            throw MailClientError(
                .authenticationMechanismUnsupported,
                "the server does not offer APOP (its greeting has no <timestamp>)",
                serverText: greeting.statusLine
            )
        }
        let digest = APOPDigest.digest(timestamp: timestamp, password: credentials.password)
        try Self.checkLogin(try await execute(.apop(name: credentials.username, digest: digest)), step: "APOP")
        cachedCapabilities = nil
    }

    /// STAT (RFC 1939 §5): the number of messages and their total size in bytes, deleted ones excluded.
    nonisolated(nonsending) public func stat() async throws -> (count: Int, size: Int) {
        let response = try await executeExpectingOK(.stat)
        let (count, size) = try POP3Listing.parseNumberAndSize(response.text, what: "STAT")
        return (count, size)
    }

    /// LIST (RFC 1939 §5): every message not marked deleted, with its size in bytes.
    nonisolated(nonsending) public func list() async throws -> [(number: Int, size: Int)] {
        let response = try await executeExpectingOK(.list(nil))
        return try POP3Listing.lines(of: response.body ?? []).map { line in
            let (number, size) = try POP3Listing.parseNumberAndSize(line, what: "LIST")
            return (number, size)
        }
    }

    /// UIDL (RFC 1939 §7): every message not marked deleted, with its unique id, stable across sessions.
    nonisolated(nonsending) public func uidl() async throws -> [(number: Int, uid: String)] {
        let response = try await executeExpectingOK(.uidl(nil))
        return try POP3Listing.lines(of: response.body ?? []).map { try POP3Listing.parseUniqueID($0) }
    }

    /// UIDL n (RFC 1939 §7): the unique id of one message.
    nonisolated(nonsending) public func uidl(_ number: Int) async throws -> String {
        let response = try await executeExpectingOK(.uidl(number))
        return try POP3Listing.parseUniqueID(response.text).uid
    }

    /// RETR n (RFC 1939 §5): the whole message, byte-stuffing removed, lines ending in CRLF.
    nonisolated(nonsending) public func retrieve(_ number: Int) async throws -> [UInt8] {
        try await executeExpectingOK(.retr(number)).body ?? []
    }

    /// TOP n lines (RFC 1939 §7): the header and the first `lines` lines of the body.
    nonisolated(nonsending) public func top(_ number: Int, lines: Int) async throws -> [UInt8] {
        try await executeExpectingOK(.top(number, lines: lines)).body ?? []
    }

    /// DELE n (RFC 1939 §5): marks a message deleted. It is removed only when `quit()` succeeds.
    nonisolated(nonsending) public func delete(_ number: Int) async throws {
        _ = try await executeExpectingOK(.dele(number))
    }

    /// RSET (RFC 1939 §5): unmarks every message marked deleted in this session.
    nonisolated(nonsending) public func reset() async throws {
        _ = try await executeExpectingOK(.rset)
    }

    /// NOOP (RFC 1939 §5).
    nonisolated(nonsending) public func noop() async throws {
        _ = try await executeExpectingOK(.noop)
    }

    /// QUIT (RFC 1939 §6): ends the session; after login this enters the UPDATE state, in which the server
    /// removes the messages marked with `delete(_:)`. Only a `+OK` answer means they were removed; `-ERR`
    /// throws `.commandRejected` (some marked messages may not have been removed). No command may follow.
    nonisolated(nonsending) public func quit() async throws {
        let response = try await execute(.quit)
        quitSent = true
        guard response.status == .ok else {
            throw Self.rejection("the server could not complete QUIT; deletions may not have been applied", response)
        }
    }

    /// Greeting, then STLS per the endpoint.
    nonisolated(nonsending) func open() async throws {
        greeting = try await nextResponse()
        guard greeting.status == .ok else { throw Self.rejection("the server refused the session", greeting) }
        guard endpoint.tls == .starttls else { return }
        guard try await capabilities().supportsSTLS else {
            throw MailClientError(
                .starttlsNotOffered,
                "the server does not offer STLS (its CAPA answer lacks it)",
                serverText: greeting.statusLine
            )
        }
        let response = try await execute(.stls)
        guard response.status == .ok else { throw Self.rejection("the server refused STLS", response) }
        try await MailTransport.startTLS(on: channel, endpoint: endpoint, logger: logger)
        // RFC 2595 §4: forget the capabilities learnt before TLS.
        cachedCapabilities = nil
    }

    nonisolated(nonsending) private func executeExpectingOK(_ command: POP3Command) async throws -> POP3Response {
        let response = try await execute(command)
        guard response.status == .ok else { throw Self.rejection("the server refused \(command)", response) }
        return response
    }

    /// Sends one command and waits for its answer; `-ERR` is returned, not thrown.
    nonisolated(nonsending) func execute(_ command: POP3Command) async throws -> POP3Response {
        guard !quitSent else {
            throw MailClientError(.protocolViolation, "no POP3 command may follow QUIT")
        }
        logger.trace("pop3 command", metadata: ["pop3.command": "\(command)"])
        do {
            try await outbound.write(command)
        } catch {
            // A failed write usually means the handler failed the channel; its error is on the inbound side.
            do {
                _ = try await inbound.next(isolation: #isolation)
            } catch {
                throw MailTransport.mailClientError(for: error, endpoint: endpoint)
            }
            throw MailTransport.mailClientError(for: error, endpoint: endpoint)
        }
        return try await nextResponse()
    }

    nonisolated(nonsending) private func nextResponse() async throws -> POP3Response {
        let response: POP3Response?
        do {
            response = try await inbound.next(isolation: #isolation)
        } catch {
            throw MailTransport.mailClientError(for: error, endpoint: endpoint)
        }
        guard let response else {
            // The inbound stream also ends when the waiting task is cancelled.
            try Task.checkCancellation()
            throw MailClientError(.connectionClosed, "the POP3 server closed the connection")
        }
        logger.trace("pop3 response", metadata: ["pop3.status": "\(response.status)"])
        return response
    }

    /// Response codes that say the credentials are not the problem (RFC 2449 §8.1, RFC 3206 §4).
    private static let notACredentialProblem: Set<String> = ["SYS/TEMP", "SYS/PERM", "IN-USE", "LOGIN-DELAY"]

    private static func checkLogin(_ response: POP3Response, step: String) throws {
        switch response.status {
        case .ok:
            return
        case .continuation:
            throw MailClientError(
                .protocolViolation,
                "the server sent an unexpected challenge to \(step)",
                serverText: response.statusLine
            )
        case .err:
            let code = response.responseCode
            let suffix = code.map { " [response code \($0)]" } ?? ""
            if let code, notACredentialProblem.contains(code.uppercased()) {
                throw MailClientError(
                    .commandRejected,
                    "the server refused \(step) for a reason other than the credentials\(suffix)",
                    serverText: response.statusLine
                )
            }
            throw MailClientError(
                .authenticationFailed,
                "the server refused the login at \(step)\(suffix)",
                serverText: response.statusLine
            )
        }
    }

    private static func rejection(_ message: String, _ response: POP3Response) -> MailClientError {
        let suffix = response.responseCode.map { " [response code \($0)]" } ?? ""
        return MailClientError(.commandRejected, message + suffix, serverText: response.statusLine)
    }
}

@available(*, unavailable)
extension POP3Connection: Sendable {}
