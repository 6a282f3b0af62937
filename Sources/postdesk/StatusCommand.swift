import AdminAPI
import ArgumentParser

struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "status", abstract: "What each mailbox is doing.")
    @OptionGroup var options: AdminOptions

    func run() async throws {
        let data = try await admin { try await options.client.raw(.GET, "/v1/health", body: String?.none) }
        if options.json { return printJSON(data) }
        let health = try decodeAnswer(HealthView.self, data)
        if health.channels.isEmpty {
            print("No mailboxes are running.")
        } else {
            print(mailboxTable(health))
        }
        for line in health.plaintext { print("Warning: \(line)") }
    }

    private func mailboxTable(_ health: HealthView) -> String {
        table(
            ["ADDRESS", "STATE", "LAST CHECK", "TODAY", "DETAIL"],
            health.channels.map {
                var detail = $0.detail ?? ""
                if let retryAt = $0.retryAt { detail = "until \(retryAt.shortText): " + detail }
                return [
                    $0.address, $0.state.rawValue, $0.lastSuccessAt?.shortText ?? "never", String($0.processedToday), detail,
                ]
            })
    }
}
