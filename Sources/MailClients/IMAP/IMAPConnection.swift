import Foundation
import Logging
import NIOCore

/// One IMAP session, handed to the body of `IMAPClient.withConnection`.
///
/// Concurrency: it is deliberately not `Sendable`. It belongs to the task (typically the mailbox actor) that
/// called `withConnection`; its methods are `nonisolated(nonsending)`, so they run in that caller's isolation.
/// It is the single reader of the connection's inbound stream, and runs one command at a time.
/// Every command has a deadline (`endpoint.commandTimeout`, enforced by the channel handler; IDLE gets its own
/// timeout plus that deadline for the end of IDLE); a missed deadline closes the connection with `.timeout`.
///
/// Untagged EXISTS, RECENT or EXPUNGE that arrive with any command's responses set `hasPendingMailboxChange`;
/// the next `idle` then returns `.mailboxChanged` at once, so mail delivered between commands is not missed.
public final class IMAPConnection {
    /// Capabilities, uppercased (`IDLE`, `AUTH=PLAIN`, `LITERAL+`, …); refreshed after STARTTLS and login.
    public private(set) var capabilities: Set<String> = []
    /// True once LOGIN/AUTHENTICATE succeeded (or the server greeted with PREAUTH).
    public private(set) var isAuthenticated = false
    /// The mailbox opened by the last successful `select`.
    public private(set) var selectedMailbox: IMAPMailboxStatus?
    /// The server reported a change (EXISTS, RECENT, EXPUNGE) outside IDLE that nobody has acted on yet;
    /// cleared by `uidSearch`, `select` and by `idle` returning `.mailboxChanged`.
    public private(set) var hasPendingMailboxChange = false
    /// The text of the server's last `[ALERT]` (RFC 3501 §7.1: must be shown to the user).
    public private(set) var lastAlert: String?

    private let channel: any Channel
    private var inbound: NIOAsyncChannelInboundStream<IMAPResponse>.AsyncIterator
    private let outbound: NIOAsyncChannelOutboundWriter<IMAPClientRequest>
    private let endpoint: MailServerEndpoint
    private let logger: Logger
    private var nextTag = 1
    private var byeText: String?
    private var isBroken = false
    private var isLoggedOut = false

    init(
        channel: any Channel,
        inbound: NIOAsyncChannelInboundStream<IMAPResponse>.AsyncIterator,
        outbound: NIOAsyncChannelOutboundWriter<IMAPClientRequest>,
        endpoint: MailServerEndpoint,
        logger: Logger
    ) {
        self.channel = channel
        self.inbound = inbound
        self.outbound = outbound
        self.endpoint = endpoint
        self.logger = logger
    }

    /// Whether the server advertises `capability` (case-insensitive).
    public func supports(_ capability: String) -> Bool {
        self.capabilities.contains(capability.uppercased())
    }

    // MARK: - Session set-up

    // greeting        = "*" SP (resp-cond-auth / resp-cond-bye) CRLF
    /// Reads the greeting, performs STARTTLS when configured, and makes sure capabilities are known.
    nonisolated(nonsending) func open() async throws {
        guard case .untagged(.status(let greeting)) = try await self.nextResponse() else {
            throw MailClientError(.protocolViolation, "the server did not send an IMAP greeting")
        }
        self.observe(.status(greeting), duringSelect: false)
        switch greeting.kind {
        case .bye:
            throw MailClientError(
                .connectionClosed,
                "the server refused the session",
                serverText: greeting.rawText
            )
        case .preauth:
            self.isAuthenticated = true
        default:
            break
        }
        if self.endpoint.tls == .starttls {
            try await self.startTLS()
        }
        if self.capabilities.isEmpty {
            try await self.refreshCapabilities()
        }
    }

    // starttls        = "STARTTLS"   (RFC 3501 §6.2.1)
    nonisolated(nonsending) private func startTLS() async throws {
        guard !self.isAuthenticated else {
            // A PREAUTH greeting leaves no chance for STARTTLS: refuse rather than run in plaintext.
            throw MailClientError(
                .starttlsNotOffered,
                "the server pre-authenticated the plaintext session (PREAUTH), so STARTTLS is impossible"
            )
        }
        if self.capabilities.isEmpty {
            try await self.refreshCapabilities()
        }
        guard self.supports("STARTTLS") else {
            throw MailClientError(.starttlsNotOffered, "the server does not offer STARTTLS")
        }
        let status = try await self.execute([.raw("STARTTLS")], startsTLS: true)
        guard status.kind == .ok else {
            throw MailClientError(.starttlsNotOffered, "the server refused STARTTLS", serverText: status.rawText)
        }
        try await MailTransport.startTLS(on: self.channel, endpoint: self.endpoint, logger: self.logger)
        // RFC 3501 §6.2.1: forget capabilities learned before TLS.
        self.capabilities = []
        try await self.refreshCapabilities()
    }

    // capability      = "CAPABILITY"   (RFC 3501 §6.1.1)
    nonisolated(nonsending) private func refreshCapabilities() async throws {
        let status = try await self.execute([.raw("CAPABILITY")])
        try self.requireOK(status, command: "CAPABILITY")
    }

    // MARK: - Authentication

    /// Logs in: AUTHENTICATE PLAIN (with SASL-IR, RFC 4959, when offered) if AUTH=PLAIN is advertised, else LOGIN
    /// unless the server says LOGINDISABLED. An OAuth 2.0 access token uses AUTHENTICATE OAUTHBEARER (RFC 7628) or
    /// XOAUTH2 as its `OAuthMechanism` says (`.automatic`: OAUTHBEARER when AUTH=OAUTHBEARER is offered, else
    /// XOAUTH2; `mechanism` is then ignored; `.authenticationMechanismUnsupported` when neither fits).
    /// A refusal throws `.authenticationFailed` with the server's words, response code included
    /// (`[ALERT] Please log in via your web browser…`).
    nonisolated(nonsending) public func login(
        _ credentials: MailCredentials,
        mechanism: IMAPLoginMechanism = .automatic
    ) async throws {
        guard !self.isAuthenticated else { return }
        if case .oauth2AccessToken(let accessToken, let requested) = credentials.secret {
            try await self.authenticateOAuth(
                username: credentials.username, accessToken: accessToken, requested: requested)
            return
        }
        let chosen: IMAPLoginMechanism
        switch mechanism {
        case .automatic:
            if self.supports("AUTH=PLAIN") {
                chosen = .plain
            } else if self.supports("LOGINDISABLED") && self.supports("AUTH=LOGIN") {
                chosen = .saslLogin
            } else {
                chosen = .login
            }
        case .plain:
            guard self.supports("AUTH=PLAIN") else {
                throw MailClientError(.authenticationMechanismUnsupported, "the server does not offer AUTH=PLAIN")
            }
            chosen = .plain
        case .login, .saslLogin:
            chosen = mechanism
        }
        if chosen == .login && self.supports("LOGINDISABLED") {
            throw MailClientError(
                .authenticationMechanismUnsupported,
                "the server refuses LOGIN on this connection (LOGINDISABLED); use TLS or STARTTLS"
            )
        }
        let status: IMAPStatusResponse
        let name: String
        switch chosen {
        case .plain:
            (status, name) = (try await self.authenticatePlain(credentials), "PLAIN")
        case .saslLogin:
            (status, name) = (try await self.authenticateLogin(credentials), "AUTHENTICATE LOGIN")
        default:
            name = "LOGIN"
            status = try await self.execute([
                .raw("LOGIN"),
                .string(Array(credentials.username.utf8)),
                .secret(.init(bytes: Array(credentials.password.utf8), asString: true)),
            ])
        }
        switch status.kind {
        case .ok:
            break
        case .no:
            throw MailClientError(
                .authenticationFailed,
                "the server refused the user name or password",
                serverText: status.rawText
            )
        default:
            throw MailClientError(
                .commandRejected,
                "the server rejected the \(name) command",
                serverText: status.rawText
            )
        }
        try await self.didAuthenticate(status, mechanism: name)
    }

    /// Marks the session authenticated after the tagged OK `status` and refreshes the capabilities.
    nonisolated(nonsending) private func didAuthenticate(_ status: IMAPStatusResponse, mechanism: String) async throws {
        self.isAuthenticated = true
        self.logger.debug("IMAP login succeeded", metadata: ["imap.mechanism": "\(mechanism)"])
        // RFC 3501 §6.2.3: capabilities may change after login; a [CAPABILITY] code in the OK saves a round trip.
        if case .capability = status.code {
            return
        }
        self.capabilities = []
        try await self.refreshCapabilities()
    }

    // authenticate    = "AUTHENTICATE" SP auth-type [SP (base64 / "=")] *(CRLF base64)   (RFC 4959 §7)
    // OAUTHBEARER: RFC 7628 §3.1, §4.1; XOAUTH2: https://developers.google.com/gmail/imap/xoauth2-protocol
    /// AUTHENTICATE OAUTHBEARER or XOAUTH2 (as `requested` and the `AUTH=` capabilities decide) with an OAuth 2.0
    /// access token, with SASL-IR when offered. On failure the server sends a base64 JSON error as a continuation
    /// (RFC 7628 §3.2.2); we answer it with a lone %x01 (OAUTHBEARER, §3.2.3) or an empty line (XOAUTH2), and
    /// surface the JSON with the final NO in `serverText`, decoded in `oauthFailure`.
    nonisolated(nonsending) private func authenticateOAuth(
        username: String, accessToken: String, requested: OAuthMechanism
    ) async throws {
        let offered = self.capabilities.filter { $0.hasPrefix("AUTH=") }.map { String($0.dropFirst(5)) }.sorted()
        let mechanism = try SASLOAuthMechanism.choose(requested, offered: offered)
        let encoded = Array(
            try SASLMechanismEncoding.oauthInitialResponse(
                mechanism, username: username, accessToken: accessToken, host: self.endpoint.host,
                port: self.endpoint.port
            ).utf8)
        var parts: [IMAPCommand.Part] = [.raw("AUTHENTICATE"), .raw(mechanism.name)]
        var responded = false
        var errorChallenge: (text: String, failure: OAuthBearerFailure?)?
        if self.supports("SASL-IR") {
            parts.append(.secret(.init(bytes: encoded, asString: false)))
            responded = true
        }
        let status = try await self.execute(
            parts, expectsContinuations: true,
            onContinuation: { challenge in
                if errorChallenge != nil {
                    // A challenge after the error makes no sense: cancel (RFC 3501 §6.2.2).
                    return IMAPCommand.Secret(bytes: Array("*".utf8), asString: false)
                }
                if responded {
                    // The error challenge: answer it, the server then sends NO (RFC 7628 §3.2.3).
                    errorChallenge = SASLMechanismEncoding.oauthErrorChallenge(challenge)
                    return IMAPCommand.Secret(
                        bytes: Array(SASLMechanismEncoding.errorChallengeAnswer(mechanism).utf8), asString: false)
                }
                responded = true
                return IMAPCommand.Secret(bytes: encoded, asString: false)
            })
        let serverText = SASLMechanismEncoding.oauthServerText(
            errorChallenge: errorChallenge?.text, finalText: status.rawText)
        switch status.kind {
        case .ok:
            try await self.didAuthenticate(status, mechanism: mechanism.name)
        case .no:
            throw MailClientError(
                .authenticationFailed, "the server refused the OAuth 2.0 access token (\(mechanism.name))",
                serverText: serverText, oauthFailure: errorChallenge?.failure)
        default:
            throw MailClientError(
                .commandRejected, "the server rejected the AUTHENTICATE \(mechanism.name) command",
                serverText: serverText, oauthFailure: errorChallenge?.failure)
        }
    }

    // authenticate    = "AUTHENTICATE" SP auth-type [SP (base64 / "=")] *(CRLF base64)   (RFC 4959 §7)
    // message         = [authzid] UTF8NUL authcid UTF8NUL passwd                          (RFC 4616 §2)
    nonisolated(nonsending) private func authenticatePlain(_ credentials: MailCredentials) async throws
        -> IMAPStatusResponse
    {
        let message = [0] + Array(credentials.username.utf8) + [0] + Array(credentials.password.utf8)
        let encoded = Array(Data(message).base64EncodedString().utf8)
        var parts: [IMAPCommand.Part] = [.raw("AUTHENTICATE"), .raw("PLAIN")]
        var responded = false
        if self.supports("SASL-IR") {
            parts.append(.secret(.init(bytes: encoded, asString: false)))
            responded = true
        }
        return try await self.execute(
            parts, expectsContinuations: true,
            onContinuation: { _ in
                if responded {
                    // A second challenge makes no sense for PLAIN: cancel (RFC 3501 §6.2.2).
                    return IMAPCommand.Secret(bytes: Array("*".utf8), asString: false)
                }
                responded = true
                return IMAPCommand.Secret(bytes: encoded, asString: false)
            })
    }

    /// AUTHENTICATE LOGIN: the first challenge ("Username:") gets the user name, the second
    /// ("Password:") the password, each base64; anything further is cancelled (RFC 3501 §6.2.2).
    nonisolated(nonsending) private func authenticateLogin(_ credentials: MailCredentials) async throws
        -> IMAPStatusResponse
    {
        var answers = [credentials.username, credentials.password].map {
            Array(Data($0.utf8).base64EncodedString().utf8)
        }
        return try await self.execute(
            [.raw("AUTHENTICATE"), .raw("LOGIN")], expectsContinuations: true,
            onContinuation: { _ in
                guard !answers.isEmpty else { return IMAPCommand.Secret(bytes: Array("*".utf8), asString: false) }
                return IMAPCommand.Secret(bytes: answers.removeFirst(), asString: false)
            })
    }

    // MARK: - Mailbox commands

    // select          = "SELECT" SP mailbox      (RFC 3501 §6.3.1)
    // examine         = "EXAMINE" SP mailbox     (RFC 3501 §6.3.2)
    /// Opens `mailbox` (read-write, or read-only with `readOnly`), returning UIDVALIDITY, UIDNEXT and counts.
    nonisolated(nonsending) public func select(_ mailbox: String, readOnly: Bool = false) async throws
        -> IMAPMailboxStatus
    {
        var exists: UInt32?
        var recent: UInt32 = 0
        var flags: [String] = []
        var uidValidity: UInt32?
        var uidNext: UInt32?
        var isReadOnly = readOnly
        func noteCode(_ code: IMAPResponseCode?) {
            switch code {
            case .uidValidity(let value): uidValidity = value
            case .uidNext(let value): uidNext = value
            case .readOnly: isReadOnly = true
            case .readWrite: isReadOnly = false
            default: break
            }
        }
        self.selectedMailbox = nil
        let status = try await self.execute(
            [.raw(readOnly ? "EXAMINE" : "SELECT"), .string(IMAPCommandEncoder.mailboxName(mailbox))],
            duringSelect: true,
            onUntagged: { untagged in
                switch untagged {
                case .exists(let count): exists = count
                case .recent(let count): recent = count
                case .flags(let list): flags = list
                case .status(let status): noteCode(status.code)
                default: break
                }
            })
        try self.requireOK(status, command: readOnly ? "EXAMINE" : "SELECT")
        noteCode(status.code)
        guard let uidValidity else {
            // RFC 3501 §6.3.1: the server MUST send UIDVALIDITY; without it no UID can be trusted.
            throw MailClientError(.protocolViolation, "the server sent no UIDVALIDITY for the mailbox")
        }
        let result = IMAPMailboxStatus(
            name: mailbox,
            uidValidity: uidValidity,
            uidNext: uidNext,
            exists: Int(exists ?? 0),
            recent: Int(recent),
            flags: flags,
            isReadOnly: isReadOnly
        )
        self.selectedMailbox = result
        self.hasPendingMailboxChange = false
        return result
    }

    // uid             = "UID" SP (copy / fetch / search / store)   (RFC 3501 §6.4.8)
    // search          = "SEARCH" [SP "CHARSET" SP astring] 1*(SP search-key)
    /// Runs `UID SEARCH criteria` (ASCII criteria such as `UID 17:* UNSEEN UNDELETED`) and returns the UIDs,
    /// ascending. Note RFC 3501 §6.4.8: a range `n:*` always matches the highest UID in the mailbox even when it
    /// is below n, so callers filter the result against their watermark.
    nonisolated(nonsending) public func uidSearch(_ criteria: String) async throws -> [UInt32] {
        try await self.uidSearch(criteria, excluding: [])
    }

    /// The longest `NOT UID` set `uidSearch(_:excluding:)` sends: far below the command line limits of servers
    /// (Dovecot's `imap_max_line_length` is 64 KiB; RFC 7162 §4 asks clients to stay under 8,192 octets).
    static let longestExclusion = 4096

    /// Runs `UID SEARCH criteria NOT UID excluded` (RFC 3501 §6.4.4: the keys of a search are ANDed; NOT
    /// negates the UID set key), so that UIDs the caller already accounts for — mail it has just stored and
    /// flagged — do not come back. An exclusion whose set would be longer than `longestExclusion` characters is
    /// not sent: the answer is then a superset, which callers must accept anyway (they filter it).
    nonisolated(nonsending) public func uidSearch(_ criteria: String, excluding excluded: [UInt32]) async throws
        -> [UInt32]
    {
        var criteria = criteria
        if !excluded.isEmpty {
            let set = IMAPCommandEncoder.sequenceSet(excluded)
            if set.utf8.count <= Self.longestExclusion { criteria += " NOT UID " + set }
        }
        self.hasPendingMailboxChange = false
        var found: Set<UInt32> = []
        let status = try await self.execute(
            [.raw("UID SEARCH"), .raw(criteria)],
            onUntagged: { untagged in
                if case .search(let uids) = untagged {
                    found.formUnion(uids)
                }
            })
        try self.requireOK(status, command: "UID SEARCH")
        return found.sorted()
    }

    // fetch           = "FETCH" SP sequence-set SP ("ALL" / "FULL" / "FAST" / fetch-att / "(" fetch-att *(SP fetch-att) ")")
    // fetch-att       =/ "BODY" [".PEEK"] section ["<" number "." nz-number ">"]
    /// Fetches whole messages with `BODY.PEEK[]` (never sets \Seen), with UID, FLAGS, INTERNALDATE and
    /// RFC822.SIZE, in ascending UID order. UIDs that no longer exist are simply absent. The whole batch is held
    /// in memory: keep batches small.
    nonisolated(nonsending) public func uidFetchMessages(_ uids: [UInt32]) async throws -> [IMAPFetchedMessage] {
        guard !uids.isEmpty else { return [] }
        let wanted = Set(uids)
        let byUID = try await self.uidFetch(
            IMAPCommandEncoder.sequenceSet(uids),
            items: "(UID FLAGS INTERNALDATE RFC822.SIZE BODY.PEEK[])",
            keeping: wanted
        )
        return byUID.keys.sorted().compactMap { uid in
            guard wanted.contains(uid), let attributes = byUID[uid], let body = attributes.body else { return nil }
            return IMAPFetchedMessage(
                uid: uid,
                flags: attributes.flags ?? [],
                internalDate: attributes.internalDate,
                size: attributes.rfc822Size ?? body.count,
                raw: body
            )
        }
    }

    /// Fetches only the header sections with `BODY.PEEK[HEADER]` (RFC 3501 §6.4.5; never sets \Seen), in
    /// ascending UID order, in `raw`: enough to log who sent a message without holding its body, however large.
    nonisolated(nonsending) public func uidFetchHeaders(_ uids: [UInt32]) async throws -> [IMAPFetchedMessage] {
        guard !uids.isEmpty else { return [] }
        let wanted = Set(uids)
        let byUID = try await self.uidFetch(
            IMAPCommandEncoder.sequenceSet(uids), items: "(UID FLAGS RFC822.SIZE BODY.PEEK[HEADER])", keeping: wanted)
        return byUID.keys.sorted().compactMap { uid in
            guard let attributes = byUID[uid], let header = attributes.header else { return nil }
            return IMAPFetchedMessage(
                uid: uid, flags: attributes.flags ?? [], internalDate: attributes.internalDate,
                size: attributes.rfc822Size ?? header.count, raw: header)
        }
    }

    /// Fetches UID, FLAGS, INTERNALDATE and RFC822.SIZE for the UID sequence set `set` (e.g. `1:*`, `5,9:12`)
    /// without bodies, in ascending UID order (used for the INTERNALDATE fallback after a UIDVALIDITY change).
    nonisolated(nonsending) public func uidFetchInfo(_ set: String) async throws -> [IMAPMessageInfo] {
        let byUID = try await self.uidFetch(set, items: "(UID FLAGS INTERNALDATE RFC822.SIZE)")
        return byUID.keys.sorted().compactMap { uid in
            guard let attributes = byUID[uid] else { return nil }
            return IMAPMessageInfo(
                uid: uid,
                flags: attributes.flags ?? [],
                internalDate: attributes.internalDate,
                size: attributes.rfc822Size
            )
        }
    }

    /// The same for the messages with these UIDs (sent as a compact sequence set, `5:9,12`); UIDs the server
    /// does not answer for (expunged meanwhile) are absent, and answers for other UIDs are dropped.
    nonisolated(nonsending) public func uidFetchInfo(_ uids: [UInt32]) async throws -> [IMAPMessageInfo] {
        guard !uids.isEmpty else { return [] }
        let byUID = try await self.uidFetch(
            IMAPCommandEncoder.sequenceSet(uids), items: "(UID FLAGS INTERNALDATE RFC822.SIZE)", keeping: Set(uids))
        return byUID.keys.sorted().compactMap { uid in
            guard let attributes = byUID[uid] else { return nil }
            return IMAPMessageInfo(
                uid: uid, flags: attributes.flags ?? [], internalDate: attributes.internalDate,
                size: attributes.rfc822Size)
        }
    }

    /// `UID FETCH set items`, merged per UID. RFC 3501 §6.4.8: every FETCH answer to UID FETCH carries the UID;
    /// FETCH responses without one are unsolicited flag updates and are ignored.
    /// `keeping` drops data for other UIDs, so a misbehaving server cannot make us hold more than we asked for.
    nonisolated(nonsending) private func uidFetch(
        _ set: String,
        items: String,
        keeping wanted: Set<UInt32>? = nil
    ) async throws -> [UInt32: IMAPFetchAttributes] {
        try Self.validateSequenceSet(set)
        var byUID: [UInt32: IMAPFetchAttributes] = [:]
        let status = try await self.execute(
            [.raw("UID FETCH"), .raw(set), .raw(items)],
            onUntagged: { untagged in
                if case .fetch(_, let attributes) = untagged, let uid = attributes.uid,
                    wanted?.contains(uid) ?? true
                {
                    byUID[uid, default: IMAPFetchAttributes()].merge(attributes)
                }
            })
        try self.requireOK(status, command: "UID FETCH")
        return byUID
    }

    // store           = "STORE" SP sequence-set SP store-att-flags
    // store-att-flags = (["+" / "-"] "FLAGS" [".SILENT"]) SP (flag-list / (flag *(SP flag)))
    /// Adds `flags` (e.g. `["\\Seen"]`) to the messages with these UIDs: `UID STORE … +FLAGS.SILENT (…)`.
    nonisolated(nonsending) public func uidStore(_ uids: [UInt32], adding flags: [String]) async throws {
        guard !uids.isEmpty, !flags.isEmpty else { return }
        for flag in flags {
            let body = flag.hasPrefix("\\") ? Array(flag.utf8.dropFirst()) : Array(flag.utf8)
            guard !body.isEmpty, body.allSatisfy(IMAPParseBuffer.isAtomChar) else {
                throw MailClientError(.commandRejected, "\"\(flag.prefix(40))\" is not a valid IMAP flag")
            }
        }
        let status = try await self.execute([
            .raw("UID STORE"), .raw(IMAPCommandEncoder.sequenceSet(uids)),
            .raw("+FLAGS.SILENT (\(flags.joined(separator: " ")))"),
        ])
        try self.requireOK(status, command: "UID STORE")
    }

    // idle            = "IDLE" CRLF "DONE"   (RFC 2177 §3)
    /// Waits in IDLE until the server reports EXISTS, RECENT, EXPUNGE or FETCH (→ `.mailboxChanged`, after DONE
    /// and the tagged OK) or until `timeout` passes (→ `.timedOut`, also after DONE). Returns `.mailboxChanged` at
    /// once when a change is already pending. RFC 2177: servers may drop clients idle for 30 minutes, so keep
    /// `timeout` below 29 minutes and call again. Throws `.commandRejected` if the server lacks IDLE.
    nonisolated(nonsending) public func idle(timeout: Duration) async throws -> IMAPIdleOutcome {
        guard self.supports("IDLE") else {
            throw MailClientError(.commandRejected, "the server does not offer IDLE (RFC 2177)")
        }
        if self.hasPendingMailboxChange {
            self.hasPendingMailboxChange = false
            return .mailboxChanged
        }
        try self.ensureUsable()
        let tag = self.makeTag()
        self.logger.trace("C: \(tag) IDLE")
        try await self.send(.idle(tag: tag, timeout: TimeAmount(timeout)))
        var changed = false
        while true {
            switch try await self.nextResponse() {
            case .continuation:
                continue
            case .untagged(let untagged):
                self.observe(untagged, duringSelect: false)
                try self.endIfBye(untagged)
                switch untagged {
                case .exists, .recent, .expunge, .fetch:
                    if !changed {
                        changed = true
                        try await self.send(.done)
                    }
                default:
                    break
                }
            case .tagged(_, let status):
                self.hasPendingMailboxChange = false
                try self.requireOK(status, command: "IDLE")
                return changed ? .mailboxChanged : .timedOut
            }
        }
    }

    // noop            = "NOOP"   (RFC 3501 §6.1.2)
    /// Sends NOOP: keeps the session alive and collects pending untagged updates.
    nonisolated(nonsending) public func noop() async throws {
        let status = try await self.execute([.raw("NOOP")])
        try self.requireOK(status, command: "NOOP")
    }

    // logout          = "LOGOUT"   (RFC 3501 §6.1.3)
    /// Says LOGOUT and waits for the answer; never throws. `withConnection` calls it on the way out.
    nonisolated(nonsending) public func logout() async {
        guard !self.isLoggedOut else { return }
        if Task.isCancelled, self.channel.isActive {
            // Shutdown: the inbound stream ended with the task (which marked the connection broken), so the
            // answer cannot be read, but the server still gets DONE and LOGOUT and ends the session cleanly.
            // A future's completion ignores cancellation.
            self.isLoggedOut = true
            do {
                try await self.channel.writeAndFlush(IMAPClientRequest.farewell(tag: self.makeTag())).get()
            } catch {
                self.logger.debug("IMAP LOGOUT could not be written", metadata: ["error": "\(error)"])
            }
            return
        }
        guard !self.isBroken else { return }
        self.isLoggedOut = true
        do {
            _ = try await self.execute([.raw("LOGOUT")])
        } catch {
            self.logger.debug("IMAP LOGOUT did not complete", metadata: ["error": "\(error)"])
        }
    }

    // MARK: - Plumbing

    /// Sends one command and reads responses until its tagged completion, passing untagged data to `onUntagged`
    /// after the connection's own bookkeeping, and answering `+` with `onContinuation` when given.
    nonisolated(nonsending) private func execute(
        _ parts: [IMAPCommand.Part],
        startsTLS: Bool = false,
        expectsContinuations: Bool = false,
        duringSelect: Bool = false,
        onContinuation: ((String) throws -> IMAPCommand.Secret)? = nil,
        onUntagged: (IMAPUntaggedResponse) throws -> Void = { _ in }
    ) async throws -> IMAPStatusResponse {
        try self.ensureUsable()
        let command = IMAPCommand(
            tag: self.makeTag(),
            parts,
            startsTLS: startsTLS,
            expectsContinuations: expectsContinuations
        )
        let literalPlus = self.supports("LITERAL+")
        // Refuse unsendable text here: a write the handler rejects would only surface as a timeout.
        _ = try IMAPCommandEncoder.encode(command, literalPlus: literalPlus)
        self.logger.trace("C: \(command.logDescription)")
        try await self.send(.command(command, literalPlus: literalPlus))
        while true {
            switch try await self.nextResponse() {
            case .untagged(let untagged):
                self.observe(untagged, duringSelect: duringSelect)
                try onUntagged(untagged)
            case .continuation(let text):
                guard let onContinuation else {
                    throw MailClientError(.protocolViolation, "unexpected continuation request")
                }
                let reply = try onContinuation(text)
                self.logger.trace("C: <redacted continuation>")
                try await self.send(.continuation(reply))
            case .tagged(_, let status):
                if status.code == .alert {
                    self.noteAlert(status.text)
                }
                return status
            }
        }
    }

    /// Bookkeeping common to every untagged response.
    private func observe(_ untagged: IMAPUntaggedResponse, duringSelect: Bool) {
        switch untagged {
        case .capability(let list):
            self.capabilities = Set(list)
        case .status(let status):
            if case .capability(let list) = status.code {
                self.capabilities = Set(list)
            }
            if status.code == .alert {
                self.noteAlert(status.text)
            }
            if status.kind == .bye {
                self.byeText = status.rawText
            }
        case .exists, .recent, .expunge:
            if !duringSelect {
                self.hasPendingMailboxChange = true
            }
        default:
            break
        }
    }

    /// RFC 3501 §7.1.5: an untagged BYE means the server is closing the connection. During IDLE the session ends
    /// here with the server's words, rather than waiting for a close that a server (or a proxy in front of it) may
    /// never send: that wait would last the whole IDLE timeout while the mailbox looks idle. (A command still waits
    /// for its tagged reply or the close, within its deadline: a refused login's NO may follow a BYE.)
    private func endIfBye(_ untagged: IMAPUntaggedResponse) throws {
        guard case .status(let status) = untagged, status.kind == .bye else { return }
        self.isBroken = true
        throw MailClientError(.connectionClosed, "the server ended the session", serverText: status.rawText)
    }

    private func noteAlert(_ text: String) {
        self.lastAlert = text
        self.logger.notice("IMAP server alert", metadata: ["imap.alert": "\(text)"])
    }

    private func requireOK(_ status: IMAPStatusResponse, command: String) throws {
        guard status.kind == .ok else {
            throw MailClientError(
                .commandRejected,
                "the server answered \(status.kind.rawValue) to \(command)",
                serverText: status.rawText
            )
        }
    }

    /// Reads the next response; a `[CAPABILITY …]` code on a tagged response updates `capabilities` here
    /// (untagged data is handled by `observe`).
    nonisolated(nonsending) private func nextResponse() async throws -> IMAPResponse {
        let response: IMAPResponse?
        do {
            response = try await self.inbound.next(isolation: #isolation)
        } catch {
            self.isBroken = true
            throw self.transportError(error)
        }
        guard let response else {
            self.isBroken = true
            // The inbound stream also ends when the calling task is cancelled.
            try Task.checkCancellation()
            throw MailClientError(
                .connectionClosed,
                self.byeText == nil ? "the server closed the connection" : "the server ended the session",
                serverText: self.byeText
            )
        }
        self.logger.trace("S: \(response.logDescription)")
        if case .tagged(_, let status) = response, case .capability(let list) = status.code {
            self.capabilities = Set(list)
        }
        return response
    }

    nonisolated(nonsending) private func send(_ request: IMAPClientRequest) async throws {
        do {
            try await self.outbound.write(request)
        } catch {
            self.isBroken = true
            // The write fails when the server has already closed the connection; a BYE it sent before closing is
            // still in the inbound stream and says why (RFC 3501 §7.1.5), so keep its words.
            if !self.channel.isActive {
                await self.readFinalResponses()
            }
            throw self.transportError(error)
        }
    }

    /// A transport error as a `MailClientError`; a connection closed after a BYE carries the BYE's words.
    private func transportError(_ error: any Error) -> MailClientError {
        var mapped = MailTransport.mailClientError(for: error, endpoint: self.endpoint)
        if mapped.code == .connectionClosed, mapped.serverText == nil, let byeText = self.byeText {
            mapped.message = "the server ended the session"
            mapped.serverText = byeText
        }
        return mapped
    }

    /// Reads what a closed connection still holds (the inbound stream ends after it), noting a BYE.
    nonisolated(nonsending) private func readFinalResponses() async {
        while let response = try? await self.inbound.next(isolation: #isolation) {
            if case .untagged(let untagged) = response {
                self.observe(untagged, duringSelect: false)
            }
        }
    }

    private func ensureUsable() throws {
        if self.isBroken {
            throw MailClientError(
                .connectionClosed, "the IMAP connection is no longer usable", serverText: self.byeText)
        }
    }

    private func makeTag() -> String {
        defer { self.nextTag += 1 }
        return "A\(self.nextTag)"
    }

    // sequence-set    = (seq-number / seq-range) ["," sequence-set]
    private static func validateSequenceSet(_ set: String) throws {
        let allowed = Set("0123456789:,*".utf8)
        guard !set.isEmpty, set.utf8.allSatisfy(allowed.contains) else {
            throw MailClientError(.commandRejected, "\"\(set.prefix(40))\" is not a UID sequence set")
        }
    }
}
