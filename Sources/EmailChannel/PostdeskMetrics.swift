import CoreMetrics
import LMTPServer
import ServiceDesk

/// postdesk's metrics in one place: every name, every label and every label value. Labels are closed enums
/// (protocol, provider, outcome, state, cause, result, status), never an address, a channel id or free text, and
/// each series is created once, here, when the runtime starts: a scrape shows every series, at zero until it
/// happens. The factory is injected (`serve` passes one over its Prometheus registry, tests their own); the
/// default is swift-metrics' global one, a no-op unless the executable bootstrapped it.
public final class PostdeskMetrics: Sendable {
    /// The metric names, as Prometheus shows them.
    public enum Name: String, Sendable, CaseIterable {
        /// Counter: new mail fetched from a mailbox and stored (a re-fetch of stored mail is a duplicate outcome).
        case mailFetched = "postdesk_mail_fetched_total"
        /// Counter: mailbox sessions that failed, by the diagnosed cause.
        case mailFetchFailures = "postdesk_mail_fetch_failures_total"
        /// Counter: what became of inbound mail, by `InboundOutcome`.
        case inboundOutcomes = "postdesk_inbound_outcomes_total"
        /// Counter: processing attempts that failed (the mail stays stored and is retried, then quarantined).
        case inboundAttemptFailures = "postdesk_inbound_attempt_failures_total"
        /// Histogram: seconds from when postdesk received a mail (fetched or delivered by LMTP) to its request or
        /// comment committed.
        case intakeLatency = "postdesk_intake_latency_seconds"
        /// Counter: notifications the relay took.
        case notificationsSent = "postdesk_notifications_sent_total"
        /// Counter: notification attempts the relay refused, by what it refused.
        case notificationFailures = "postdesk_notification_failures_total"
        /// Counter: relay sessions that failed as a whole (the outbox is held), by the diagnosed cause.
        case relayFailures = "postdesk_relay_failures_total"
        /// Gauge: notifications in the outbox, by status (pending, due now, failed), read at each scrape.
        case outboxNotifications = "postdesk_outbox_notifications"
        /// Gauge: channels by what their mailbox is doing (`MailboxState`), read at each scrape.
        case channels = "postdesk_channels"
        /// Counter: LMTP deliveries, one per recipient, by the reply after DATA.
        case lmtpDeliveries = "postdesk_lmtp_deliveries_total"
        /// Counter: commits of fetched mail refused because this node no longer held the mailbox's lease.
        case fencedCommits = "postdesk_lease_fenced_commits_total"

        /// The `# HELP` text of the series (swift-metrics has no place for it, so the exposition adds it).
        public var help: String {
            switch self {
            case .mailFetched: "New mail fetched from a mailbox and stored."
            case .mailFetchFailures: "Mailbox sessions that failed, by the diagnosed cause."
            case .inboundOutcomes: "What became of inbound mail, by outcome."
            case .inboundAttemptFailures: "Processing attempts that failed; the mail stays stored and is retried."
            case .intakeLatency: "Seconds from receiving a mail to its request or comment committed."
            case .notificationsSent: "Notifications the relay took."
            case .notificationFailures: "Notification attempts the relay refused, by what it refused."
            case .relayFailures: "Relay sessions that failed as a whole (the outbox is held), by cause."
            case .outboxNotifications: "Notifications in the outbox, by status, read at each scrape."
            case .channels: "Channels by what their mailbox is doing, read at each scrape."
            case .lmtpDeliveries: "LMTP deliveries, one per recipient, by the reply after DATA."
            case .fencedCommits: "Commits of fetched mail refused because this node no longer held the mailbox's lease."
            }
        }
    }

    /// `exposition` with a `# HELP` line before the `# TYPE` line of each of postdesk's series (text format 0.0.4:
    /// HELP, then TYPE). One pass over the text.
    public static func addingHelp(to exposition: [UInt8]) -> [UInt8] {
        let help = Dictionary(uniqueKeysWithValues: Name.allCases.map { ($0.rawValue, $0.help) })
        var output: [UInt8] = []
        output.reserveCapacity(exposition.count + help.count * 80)
        for line in exposition.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
            let text = String(decoding: line, as: UTF8.self)
            if text.hasPrefix("# TYPE "), let name = text.dropFirst(7).split(separator: " ").first,
                let words = help[String(name)]
            {
                output += Array("# HELP \(name) \(words)\n".utf8)
            }
            output += line
            output.append(UInt8(ascii: "\n"))
        }
        // split keeps the text after the last newline as a final (empty) line; do not add a newline for it.
        if exposition.last == UInt8(ascii: "\n") || exposition.isEmpty { output.removeLast() }
        return output
    }

    /// Why a mailbox session failed: `MailboxDiagnosis.Cause` without its payload, and EmailChannel's own failures.
    public enum FetchFailureCause: String, Sendable, CaseIterable {
        case gmailWebLoginRequired, yahooAccountVerification, outlookLoginLimit, microsoftNotConnected, throttled
        case badCredentials, oauthTokenRefused, tlsConfiguration, transient
        case credentialUnavailable, grantRefused, storage

        /// The cause of a diagnosed mail-server failure.
        public init(_ cause: MailboxDiagnosis.Cause) {
            switch cause {
            case .gmailWebLoginRequired: self = .gmailWebLoginRequired
            case .yahooAccountVerification: self = .yahooAccountVerification
            case .outlookLoginLimit: self = .outlookLoginLimit
            case .microsoftNotConnected: self = .microsoftNotConnected
            case .throttled: self = .throttled
            case .badCredentials: self = .badCredentials
            case .oauthTokenRefused: self = .oauthTokenRefused
            case .tlsConfiguration: self = .tlsConfiguration
            case .transient: self = .transient
            }
        }

        /// The cause of one of EmailChannel's own failures.
        public init(_ code: EmailChannelError.Code) {
            switch code {
            case .credentialUnavailable: self = .credentialUnavailable
            case .grantRefused: self = .grantRefused
            case .storage: self = .storage
            }
        }
    }

    /// What the relay refused of one notification (the `SMTPTransactionOutcome` that failed it), or a session that
    /// kept dying during it.
    public enum NotificationFailureCause: String, Sendable, CaseIterable {
        case senderRefused, recipientsRefused, dataRefused, contentRefused, unsendable, sessionInterrupted
    }

    /// The outbox counts shown as `postdesk_outbox_notifications{status}`.
    public enum OutboxStatus: String, Sendable, CaseIterable {
        /// Waiting to be sent (due now or later).
        case pending
        /// Pending and due now.
        case due
        /// Given up (5xx, or out of attempts).
        case failed
    }

    /// The outcomes counted: every one a mail can end with (a mail waiting has none yet).
    static let countedOutcomes = InboundOutcome.allCases.filter { $0 != .pending }

    /// The mailbox protocols that fetch (push channels are counted by `lmtpDeliveries`).
    static let fetchingProtocols: [MailboxProtocol] = [.imap, .pop3]

    /// Buckets of the intake latency histogram: an IDLE mailbox or LMTP commits within milliseconds, a backlog
    /// or a router catching up after a restart takes minutes.
    public static let intakeLatencyBuckets: [Duration] = [
        .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100),
        .milliseconds(250), .milliseconds(500), .seconds(1), .milliseconds(2500), .seconds(5), .seconds(10),
        .seconds(30), .seconds(60), .seconds(300),
    ]

    /// The counters of one kind of mailbox (protocol and provider).
    struct Mailbox: Sendable {
        let fetched: Counter
        let failures: [FetchFailureCause: Counter]

        func failed(_ cause: FetchFailureCause) { failures[cause]?.increment() }
    }

    private struct MailboxKind: Hashable {
        var mailProtocol: MailboxProtocol
        var provider: MailProvider
    }

    private let mailboxes: [MailboxKind: Mailbox]
    private let outcomes: [InboundOutcome: Counter]
    let inboundAttemptFailures: Counter
    let intakeLatency: CoreMetrics.Timer
    let notificationsSent: Counter
    private let notificationFailures: [NotificationFailureCause: Counter]
    private let relayFailures: [RelayDiagnosis.Cause: Counter]
    private let outbox: [OutboxStatus: Gauge]
    private let channels: [MailboxState: Gauge]
    private let lmtpDelivered: Counter
    private let lmtpTemporaryFailure: Counter
    private let lmtpUnknownRecipient: Counter
    /// Commits of fetched mail refused by the lease fence (several nodes).
    public let fencedCommits: Counter

    /// Every series, created through `factory`.
    public init(factory: any MetricsFactory = MetricsSystem.factory) {
        func counter(_ name: Name, _ labels: [(String, String)] = []) -> Counter {
            Counter(label: name.rawValue, dimensions: labels, factory: factory)
        }
        func gauge(_ name: Name, _ labels: [(String, String)]) -> Gauge {
            Gauge(label: name.rawValue, dimensions: labels, factory: factory)
        }
        var mailboxes: [MailboxKind: Mailbox] = [:]
        for mailProtocol in Self.fetchingProtocols {
            for provider in MailProvider.allCases {
                let kind = [("protocol", mailProtocol.rawValue), ("provider", provider.rawValue)]
                mailboxes[MailboxKind(mailProtocol: mailProtocol, provider: provider)] = Mailbox(
                    fetched: counter(.mailFetched, kind),
                    failures: Dictionary(
                        uniqueKeysWithValues: FetchFailureCause.allCases.map {
                            ($0, counter(.mailFetchFailures, kind + [("cause", $0.rawValue)]))
                        }))
            }
        }
        self.mailboxes = mailboxes
        outcomes = Dictionary(
            uniqueKeysWithValues: Self.countedOutcomes.map {
                ($0, counter(.inboundOutcomes, [("outcome", $0.rawValue)]))
            })
        inboundAttemptFailures = counter(.inboundAttemptFailures)
        intakeLatency = CoreMetrics.Timer(label: Name.intakeLatency.rawValue, factory: factory)
        notificationsSent = counter(.notificationsSent)
        notificationFailures = Dictionary(
            uniqueKeysWithValues: NotificationFailureCause.allCases.map {
                ($0, counter(.notificationFailures, [("cause", $0.rawValue)]))
            })
        relayFailures = Dictionary(
            uniqueKeysWithValues: RelayDiagnosis.Cause.allCases.map {
                ($0, counter(.relayFailures, [("cause", $0.rawValue)]))
            })
        outbox = Dictionary(
            uniqueKeysWithValues: OutboxStatus.allCases.map {
                ($0, gauge(.outboxNotifications, [("status", $0.rawValue)]))
            })
        channels = Dictionary(
            uniqueKeysWithValues: MailboxState.allCases.map { ($0, gauge(.channels, [("state", $0.rawValue)])) })
        lmtpDelivered = counter(.lmtpDeliveries, [("result", "delivered")])
        lmtpTemporaryFailure = counter(.lmtpDeliveries, [("result", "temporaryFailure")])
        lmtpUnknownRecipient = counter(.lmtpDeliveries, [("result", "unknownRecipient")])
        fencedCommits = counter(.fencedCommits)
    }

    /// The counters of a mailbox of this protocol and provider (nil for push channels, which fetch nothing).
    func mailbox(protocol mailProtocol: MailboxProtocol, provider: MailProvider) -> Mailbox? {
        mailboxes[MailboxKind(mailProtocol: mailProtocol, provider: provider)]
    }

    /// Counts `count` mails that ended with `outcome`.
    func count(_ outcome: InboundOutcome, _ count: Int = 1) {
        guard count > 0 else { return }
        outcomes[outcome]?.increment(by: count)
    }

    /// Counts one notification attempt the relay refused.
    func notificationFailed(_ cause: NotificationFailureCause) {
        notificationFailures[cause]?.increment()
    }

    /// Counts one relay session that failed as a whole.
    func relayFailed(_ cause: RelayDiagnosis.Cause) {
        relayFailures[cause]?.increment()
    }

    /// Counts one LMTP recipient's result.
    func lmtpDelivery(_ result: LMTPDeliveryResult) {
        switch result {
        case .delivered: lmtpDelivered.increment()
        case .temporaryFailure: lmtpTemporaryFailure.increment()
        case .unknownRecipient: lmtpUnknownRecipient.increment()
        }
    }

    /// Sets the outbox gauges from the store's counts.
    public func showOutbox(_ counts: OutboxCounts) {
        outbox[.pending]?.record(counts.pending)
        outbox[.due]?.record(counts.due)
        outbox[.failed]?.record(counts.failed)
    }

    /// Sets the channel gauges from the status board's counts; a state with no channel shows 0.
    public func showChannels(_ counts: [MailboxState: Int]) {
        for (state, gauge) in channels { gauge.record(counts[state] ?? 0) }
    }
}
