import Foundation
import Logging
import MailClients
import ServiceDesk

/// What "test connection" checks: a mailbox server (and optionally the SMTP relay) with the channel's settings.
public struct ChannelTestTarget: Sendable {
    /// What the channel remembered when it was linked, so the test can count the messages it would process.
    public enum Watermark: Sendable, Hashable {
        /// IMAP: UIDVALIDITY and UIDNEXT of INBOX at link time; messages with `UID >= uidNextAtLink` count.
        case imap(uidValidity: UInt32, uidNextAtLink: UInt32)
        /// POP3: the UIDLs present at link time; other messages count.
        case pop3(uidlsAtLink: Set<String>)
    }

    /// The SMTP relay notifications go out through.
    public struct SMTPRelay: Sendable {
        public var endpoint: MailServerEndpoint
        /// `nil` for a relay without authentication.
        public var credentials: MailCredentials?
        /// The notifications' sender address (its domain is our EHLO name).
        public var from: String

        /// A relay to test.
        public init(endpoint: MailServerEndpoint, credentials: MailCredentials?, from: String) {
            self.endpoint = endpoint
            self.credentials = credentials
            self.from = from
        }
    }

    public var `protocol`: MailboxProtocol
    public var endpoint: MailServerEndpoint
    public var credentials: MailCredentials
    /// `nil` when the channel is not linked yet: nothing already in the mailbox would be processed.
    public var watermark: Watermark?
    /// Also tested when given.
    public var smtpRelay: SMTPRelay?

    /// A target to test.
    public init(
        protocol: MailboxProtocol,
        endpoint: MailServerEndpoint,
        credentials: MailCredentials,
        watermark: Watermark? = nil,
        smtpRelay: SMTPRelay? = nil
    ) {
        self.protocol = `protocol`
        self.endpoint = endpoint
        self.credentials = credentials
        self.watermark = watermark
        self.smtpRelay = smtpRelay
    }
}

/// Tests a channel's settings the way the mailbox actor will use them, without changing the mailbox: connect,
/// TLS, log in, open INBOX read-only (IMAP) or STAT+UIDL (POP3, no DELE), count what would be processed; then the
/// SMTP relay up to AUTH, then RSET and QUIT (no mail is sent).
public struct ChannelTester: Sendable {
    /// Told of each step as soon as it is decided (the console shows them as they happen).
    public typealias Progress = @Sendable (ChannelTestReport.Step) -> Void

    /// A tester.
    public init() {}

    /// Runs the test; never throws: every failure is a failed step in the report. `progress` hears each step of
    /// the report, in order, when it is decided.
    public func test(
        _ target: ChannelTestTarget, logger: Logger, progress: Progress? = nil
    ) async -> ChannelTestReport {
        var run = Run(progress: progress)
        switch target.protocol {
        case .imap: await testIMAP(target, logger: logger, run: &run)
        case .pop3: await testPOP3(target, logger: logger, run: &run)
        case .lmtp:
            run.pass(
                "Push delivery over LMTP",
                "no mailbox to log in to: mail arrives when an MTA delivers it to postdesk serve --lmtp-listen")
        }
        if let relay = target.smtpRelay {
            await testSMTP(relay, logger: logger, run: &run)
        }
        return ChannelTestReport(
            steps: run.steps,
            capabilities: run.capabilities.sorted(),
            wouldProcess: run.wouldProcess,
            serverText: run.failure?.serverText,
            diagnosis: run.failure.map(Self.diagnosis(for:))
        )
    }

    /// The report's diagnosis of a client error (public so the admin API can explain other failures alike).
    public static func diagnosis(for error: MailClientError) -> ChannelTestReport.Diagnosis {
        let diagnosis = MailboxDiagnosis.diagnose(error)
        return ChannelTestReport.Diagnosis(
            cause: causeName(diagnosis.cause),
            summary: diagnosis.summary,
            fix: diagnosis.fix,
            needsAttention: diagnosis.needsAttention
        )
    }

    // MARK: - Steps

    /// The state of one test run.
    private struct Run {
        var steps: [ChannelTestReport.Step] = []
        var capabilities: Set<String> = []
        var wouldProcess: Int?
        var failure: MailClientError?
        let progress: Progress?

        init(progress: Progress?) { self.progress = progress }

        mutating func pass(_ name: String, _ detail: String) {
            append(.init(name: name, ok: true, detail: detail))
        }

        mutating func fail(_ name: String, _ error: MailClientError) {
            append(.init(name: name, ok: false, detail: error.message))
            if failure == nil { failure = error }
        }

        /// Steps a probe already reported as they happened.
        mutating func adopt(_ reported: [ChannelTestReport.Step]) { steps += reported }

        private mutating func append(_ step: ChannelTestReport.Step) {
            steps.append(step)
            progress?(step)
        }
    }

    /// The steps a client's `withConnection` performs before its body runs.
    private enum Stage: Int, Comparable {
        case connected, secured, loggedIn, opened

        static func < (lhs: Stage, rhs: Stage) -> Bool { lhs.rawValue < rhs.rawValue }
    }

    private static func connectName(_ endpoint: MailServerEndpoint, _ what: String) -> String {
        "Connect to \(what) \(endpoint.host):\(endpoint.port)"
    }

    private static func tlsName(_ endpoint: MailServerEndpoint) -> String {
        endpoint.tls == .implicit ? "TLS (implicit)" : "STARTTLS"
    }

    /// Records the steps up to the one that failed with `error`, given how far the session got.
    private static func recordFailure(
        _ error: MailClientError,
        reached: Stage?,
        endpoint: MailServerEndpoint,
        what: String,
        loginName: String,
        run: inout Run
    ) {
        let connect = connectName(endpoint, what)
        guard let reached else {
            // Failed inside withConnection's set-up: the code tells which step.
            switch error.code {
            case .tlsCertificateUntrusted, .tlsHostnameMismatch, .tlsHandshakeFailed, .starttlsNotOffered:
                run.pass(connect, "connected")
                run.fail(tlsName(endpoint), error)
            default:
                run.fail(connect, error)
            }
            return
        }
        if reached == .connected {
            run.fail(loginName, error)
        }
    }

    /// What a mailbox session test has found so far: the steps passed, how far the session got, what it counted.
    private struct MailboxProbe {
        let endpoint: MailServerEndpoint
        /// "IMAP" or "POP3", for step names.
        let what: String
        let loginName: String
        var reached: Stage?
        var steps: [ChannelTestReport.Step] = []
        var capabilities: Set<String> = []
        var wouldProcess: Int?
        let progress: Progress?

        /// The client's `withConnection` set-up succeeded: connected, and TLS verified when the endpoint uses it.
        mutating func connected() {
            reached = .connected
            pass(ChannelTester.connectName(endpoint, what), "greeted")
            if endpoint.tls != .none { pass(ChannelTester.tlsName(endpoint), "certificate verified") }
        }

        mutating func pass(_ name: String, _ detail: String) {
            let step = ChannelTestReport.Step(name: name, ok: true, detail: detail)
            steps.append(step)
            progress?(step)
        }
    }

    /// Runs one mailbox session test and records it: the steps that passed and, when `session` throws, the step the
    /// error belongs to by how far the session got (after login: `openName`; after opening: counting).
    private func probeMailbox(
        _ target: ChannelTestTarget,
        what: String,
        openName: String,
        run: inout Run,
        _ session: (inout MailboxProbe) async throws -> Void
    ) async {
        var probe = MailboxProbe(
            endpoint: target.endpoint, what: what, loginName: "Log in as \(target.credentials.username)",
            progress: run.progress)
        do {
            try await session(&probe)
        } catch {
            run.adopt(probe.steps)
            run.capabilities = probe.capabilities
            let error = MailTransport.mailClientError(for: error, endpoint: target.endpoint)
            switch probe.reached {
            case .loggedIn?: run.fail(openName, error)
            case .opened?: run.fail("Count new messages", error)
            default:
                Self.recordFailure(
                    error, reached: probe.reached, endpoint: target.endpoint, what: what, loginName: probe.loginName,
                    run: &run)
            }
            return
        }
        run.adopt(probe.steps)
        run.capabilities = probe.capabilities
        run.wouldProcess = probe.wouldProcess
    }

    private func testIMAP(_ target: ChannelTestTarget, logger: Logger, run: inout Run) async {
        await probeMailbox(target, what: "IMAP", openName: "Open INBOX", run: &run) { probe in
            try await IMAPClient.withConnection(to: target.endpoint, logger: logger) { imap in
                probe.connected()
                try await imap.login(target.credentials)
                probe.reached = .loggedIn
                probe.capabilities = imap.capabilities
                probe.pass(probe.loginName, "authenticated")
                let inbox = try await imap.select("INBOX", readOnly: true)
                probe.reached = .opened
                probe.pass("Open INBOX", "\(inbox.exists) messages, UIDVALIDITY \(inbox.uidValidity)")
                let (count, detail) = try await Self.countIMAP(imap, inbox: inbox, watermark: target.watermark)
                probe.wouldProcess = count
                probe.pass("Count new messages", detail)
            }
        }
    }

    /// UNSEEN UNDELETED messages at or above the link watermark (DESIGN §1: what is processed).
    nonisolated(nonsending) private static func countIMAP(
        _ imap: IMAPConnection,
        inbox: IMAPMailboxStatus,
        watermark: ChannelTestTarget.Watermark?
    ) async throws -> (Int?, String) {
        guard case .imap(let uidValidity, let uidNextAtLink) = watermark else {
            let unseen = try await imap.uidSearch("UNSEEN UNDELETED").count
            return (
                0,
                "not linked yet: only mail arriving after linking is processed (\(unseen) unread messages already "
                    + "in INBOX stay untouched)"
            )
        }
        guard uidValidity == inbox.uidValidity else {
            return (
                nil,
                "UIDVALIDITY changed since linking (\(uidValidity) → \(inbox.uidValidity)): the next session reads the "
                    + "mailbox by arrival date after the link time, then counts UIDs again from its UIDNEXT"
            )
        }
        // RFC 3501 §6.4.8: `n:*` also matches the highest UID below n, so filter against the watermark.
        let uids = try await imap.uidSearch("UID \(max(uidNextAtLink, 1)):* UNSEEN UNDELETED")
            .filter { $0 >= uidNextAtLink }
        return (uids.count, "\(uids.count) unread messages arrived after linking (UID ≥ \(uidNextAtLink))")
    }

    private func testPOP3(_ target: ChannelTestTarget, logger: Logger, run: inout Run) async {
        await probeMailbox(target, what: "POP3", openName: "STAT and UIDL", run: &run) { probe in
            try await POP3Client.withConnection(to: target.endpoint, logger: logger) { pop3 in
                probe.connected()
                try await pop3.login(target.credentials)
                probe.reached = .loggedIn
                probe.pass(probe.loginName, "authenticated")
                let stat = try await pop3.stat()
                let uidls = try await pop3.uidl()
                probe.reached = .opened
                probe.capabilities = Set(try await pop3.capabilities().tags.keys.map { $0.uppercased() })
                probe.pass("STAT and UIDL", "\(stat.count) messages, \(stat.size) bytes")
                if case .pop3(let atLink) = target.watermark {
                    let count = uidls.filter { !atLink.contains($0.uid) }.count
                    probe.wouldProcess = count
                    probe.pass(
                        "Count new messages",
                        "\(count) messages arrived after linking (POP3 deletes them once processed)"
                    )
                } else {
                    probe.wouldProcess = 0
                    probe.pass(
                        "Count new messages",
                        "not linked yet: the \(uidls.count) messages in the mailbox stay untouched; only mail "
                            + "arriving after linking is processed, and then deleted (an empty mailbox is the safe "
                            + "start)")
                }
                // Leave without DELE; QUIT ends the session cleanly.
                try await pop3.quit()
            }
        }
    }

    private func testSMTP(_ relay: ChannelTestTarget.SMTPRelay, logger: Logger, run: inout Run) async {
        let endpoint = relay.endpoint
        let name = "SMTP relay \(endpoint.host):\(endpoint.port)"
        let what =
            [
                "connect", "EHLO", endpoint.tls == .none ? nil : Self.tlsName(endpoint),
                relay.credentials == nil ? nil : "AUTH",
            ]
            .compactMap { $0 }.joined(separator: ", ")
        var opened = false
        do {
            try await SMTPClient.withConnection(
                to: endpoint, credentials: relay.credentials, heloName: ehloName(forSender: relay.from), logger: logger
            ) { smtp in
                opened = true
                let offered = smtp.capabilities.keywords.keys.sorted().joined(separator: " ")
                run.pass(name, "\(what) OK; offers \(offered.isEmpty ? "nothing" : offered)")
                try await smtp.reset()
                run.pass("SMTP RSET", "no mail sent; sender would be \(relay.from)")
            }
        } catch {
            let error = MailTransport.mailClientError(for: error, endpoint: endpoint)
            run.fail(opened ? "SMTP RSET" : name, error)
        }
    }

    /// The cause's name in reports: the one the metrics label it with.
    private static func causeName(_ cause: MailboxDiagnosis.Cause) -> String {
        PostdeskMetrics.FetchFailureCause(cause).rawValue
    }
}
