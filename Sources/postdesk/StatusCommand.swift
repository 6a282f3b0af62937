import AdminAPI
import ArgumentParser

struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status", abstract: "What each mailbox and the SMTP relay are doing.")
    @OptionGroup var options: AdminOptions

    func run() async throws {
        let data = try await admin { try await options.client.raw(.GET, "/v1/health", body: String?.none) }
        if options.json { return printJSON(data) }
        let health = try decodeAnswer(HealthView.self, data)
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
        }
        print(Self.relayText(health.relay))
        for line in health.plaintext { print("Warning: \(line)") }
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
