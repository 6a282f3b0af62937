import AdminAPI
import ArgumentParser
import Foundation
import PostdeskWire

struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status", abstract: "What each mailbox and the SMTP relay are doing.",
        discussion: """
            With --check it prints one line and exits non-zero when a mailbox needs attention or the outbox is \
            stuck (the SMTP relay fails, a notification failed, or one waits longer than --stuck-after), and \
            prints one "ok" line and exits 0 otherwise: for a container HEALTHCHECK, monitoring and cron.

            Examples:
              postdesk status
              postdesk status --check --stuck-after 600
            """)
    @OptionGroup var options: AdminOptions

    @Flag(help: "Print one line and exit non-zero when a mailbox needs attention or the outbox is stuck.")
    var check = false

    @Option(help: "With --check: seconds a notification may wait before the outbox counts as stuck.")
    var stuckAfter = 900

    func validate() throws {
        if check && options.json { throw ValidationError("--check prints one line; leave out --json") }
        if stuckAfter < 1 { throw ValidationError("--stuck-after must be at least 1 second") }
    }

    func run() async throws {
        let data = try await admin { try await options.client.raw(.GET, "/v1/health", body: String?.none) }
        if options.json { return printJSON(data) }
        let health = try decodeAnswer(HealthView.self, data)
        if check {
            let problems = Self.problems(health, stuckAfter: TimeInterval(stuckAfter), now: Date())
            if problems.isEmpty { return print(Self.okLine(health)) }
            print("needs attention: " + problems.joined(separator: "; "))
            throw ExitCode.failure
        }
        if health.channels.isEmpty {
            print("No mailboxes are running.")
        } else {
            print(
                table(
                    ["ADDRESS", "STATE", "LAST CHECK", "TODAY", "DETAIL"],
                    health.channels.map {
                        var detail = $0.detail ?? ""
                        if let retryAt = $0.retryAt { detail = "until \(retryAt.shortText): " + detail }
                        return [
                            $0.address, $0.state.rawValue, $0.lastSuccessAt?.shortText ?? "never",
                            String($0.processedToday), detail,
                        ]
                    }))
            for channel in health.channels {
                if let oauth = channel.oauth { print(Self.grantText(channel.address, oauth)) }
            }
        }
        print(Self.relayText(health.relay))
        if let line = try await Self.webhookText(options.client) { print(line) }
        for line in health.plaintext { print("Warning: \(line)") }
    }

    /// A line when webhooks have given-up deliveries; nil when none has (or the server has no webhooks).
    static func webhookText(_ client: AdminClient) async throws -> String? {
        let data = try await admin { try await client.raw(.GET, "/v1/webhooks", body: String?.none) }
        let failing = try decodeAnswer([WebhookView].self, data).filter { $0.failed > 0 }
        guard !failing.isEmpty else { return nil }
        let ids = failing.map { String($0.id) }.joined(separator: ", ")
        return "Webhooks: \(failing.count) with failed deliveries (\(ids)); postdesk webhook deliveries ID shows why"
    }
    /// What `--check` fails on, one phrase each: mailboxes that need attention, a failing relay, failed
    /// notifications, and pending ones older than `stuckAfter` seconds.
    static func problems(_ health: HealthView, stuckAfter: TimeInterval, now: Date) -> [String] {
        var problems = health.channels.filter { $0.state == .needsAttention }.map {
            "mailbox \($0.address) needs attention"
                + ($0.detail.map { " (\($0.split(whereSeparator: \.isNewline).joined(separator: " ")))" } ?? "")
        }
        let relay = health.relay
        if relay.state == .failing {
            problems.append(
                "SMTP relay failing" + (relay.since.map { " since \($0.shortText)" } ?? "")
                    + (relay.diagnosis.map { " (\($0))" } ?? ""))
        }
        if relay.failed > 0 {
            problems.append(
                "\(relay.failed) notification\(relay.failed == 1 ? "" : "s") failed (postdesk outbox --failed)")
        }
        if let oldest = relay.oldestPendingAt, now.timeIntervalSince(oldest) > stuckAfter {
            problems.append(
                "outbox stuck: \(relay.pending) pending, the oldest since \(oldest.shortText), longer than "
                    + "\(Int(stuckAfter)) s" + (relay.state == .notConfigured ? " (no SMTP relay is set)" : ""))
        }
        return problems
    }

    /// The one line `--check` prints when nothing needs attention.
    static func okLine(_ health: HealthView) -> String {
        let mailboxes = health.channels.count
        let relay: String =
            switch health.relay.state {
            case .ok: "SMTP relay ok"
            case .untried: "SMTP relay not contacted yet"
            case .notConfigured: "no SMTP relay set"
            case .failing: "SMTP relay failing"
            }
        return "ok: \(mailboxes) mailbox\(mailboxes == 1 ? "" : "es") running, \(relay), "
            + "\(health.relay.pending) notification\(health.relay.pending == 1 ? "" : "s") pending"
    }

    /// One line on an OAuth 2.0 grant: its app, when it was last refreshed and until when its token runs, or why it
    /// no longer works.
    static func grantText(_ owner: String, _ grant: OAuthGrantView) -> String {
        var line = "OAuth \(owner): app \(grant.app), "
        if let refreshed = grant.lastRefreshAt {
            line += "refreshed \(refreshed.shortText) (\(grant.refreshCount) time\(grant.refreshCount == 1 ? "" : "s"))"
        } else {
            line += "signed in \(grant.grantedAt.shortText), not refreshed yet"
        }
        if let expires = grant.accessExpiresAt { line += ", token valid until \(expires.shortText)" }
        if let failure = grant.failure { line += "; NOT WORKING: \(failure)" }
        return line
    }

    /// The relay's state, its words, the diagnosis and the fix, and what the outbox holds.
    static func relayText(_ relay: RelayStatusView) -> String {
        var lines: [String] = []
        switch relay.state {
        case .notConfigured: lines.append("SMTP relay: not set")
        case .untried: lines.append("SMTP relay: not contacted yet (nothing was due)")
        case .ok: lines.append("SMTP relay: ok" + (relay.since.map { " since \($0.shortText)" } ?? ""))
        case .failing:
            var line = "SMTP relay: failing"
            if let since = relay.since { line += " since \(since.shortText)" }
            line += " (\(relay.failures) failed session\(relay.failures == 1 ? "" : "s")"
            if let retryAt = relay.retryAt { line += ", next try \(retryAt.shortText)" }
            lines.append(line + "); notifications are held, their attempts are not counted")
        }
        if let serverText = relay.serverText, !serverText.isEmpty { lines.append("  Relay said: \(serverText)") }
        if let diagnosis = relay.diagnosis { lines.append("  Diagnosis: \(diagnosis)") }
        if let fix = relay.fix { lines.append("  Fix: \(fix)") }
        if let last = relay.lastDeliveryAt { lines.append("  Last notification sent: \(last.shortText)") }
        if let oauth = relay.oauth { lines.append("  " + grantText("relay", oauth)) }
        lines.append(
            "Outbox: \(relay.pending) pending (\(relay.due) due now), \(relay.failed) failed (postdesk outbox)")
        if relay.unrecordedDeliveries > 0 {
            lines.append(
                "  \(relay.unrecordedDeliveries) sent but not yet recorded: the database refused the write; they are "
                    + "not sent again and recording is retried")
        }
        return lines.joined(separator: "\n")
    }
}
