import AdminAPI
import ArgumentParser
import Foundation
import PostdeskWire

struct LogCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "log", abstract: "Every inbound mail and what became of it.",
        discussion: """
            Examples:
              postdesk log --channel help@desk.test --since 2026-11-20T00:00:00Z
              postdesk log --failed
            """)
    @OptionGroup var options: AdminOptions
    @Option(help: "Only this channel's mail.") var channel: String?
    @Option(help: "Only mail since this ISO 8601 time, e.g. 2026-11-20T00:00:00Z.") var since: String?
    @Flag(help: "Only mail that failed or was quarantined (retry with `postdesk inbound retry`).") var failed = false
    @Flag(help: "Only mail the per-sender rate limit holds (`postdesk inbound release|drop`).") var held = false

    func run() async throws {
        var query: [String] = []
        if let channel {
            query.append("channel=" + (channel.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? channel))
        }
        if let since {
            guard ISO8601DateFormatter().date(from: since) != nil else {
                throw ValidationError("--since \(since): expected an ISO 8601 time such as 2026-11-20T00:00:00Z")
            }
            query.append("since=" + (since.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? since))
        }
        let outcomes = [failed ? "failed" : nil, held ? "held" : nil].compactMap { $0 }
        if !outcomes.isEmpty { query.append("outcome=" + outcomes.joined(separator: ",")) }
        let path = "/v1/log" + (query.isEmpty ? "" : "?" + query.joined(separator: "&"))
        let data = try await admin { try await options.client.raw(.GET, path, body: String?.none) }
        if options.json { return printJSON(data) }
        let entries = try decodeAnswer([LogEntry].self, data)
        if entries.isEmpty { return print("No inbound mail yet.") }
        print(
            table(
                ["TIME", "ID", "CHANNEL", "FROM", "OUTCOME", "SUBJECT"],
                entries.map { entry in
                    var outcome = entry.outcome.rawValue
                    if let key = entry.request { outcome += " " + key }
                    if let detail = entry.detail { outcome += ": " + detail }
                    if let notes = entry.notes, !notes.isEmpty { outcome += " [" + notes.joined(separator: "; ") + "]" }
                    return [
                        entry.time.shortText, entry.inbound.map(String.init) ?? "-", entry.channel, entry.from ?? "",
                        outcome, entry.subject ?? "",
                    ]
                }))
    }
}
