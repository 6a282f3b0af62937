import EmailChannel
import Foundation
import Hummingbird
import PostdeskWire
import ServiceDesk

/// `/v1/health`, `/v1/log` and `/v1/console`: what every channel, the relay and the outbox are doing, what became of each mail, and where the console is.
struct StatusRoutes: Sendable {
    let store: DeskStore
    let notifier: Notifier
    let statusBoard: ChannelStatusBoard
    let consoleAddress: String?

    func addRoutes(to router: Router<AdminRequestContext>) {
        router.get("/v1/console") { _, _ in ConsoleInfoView(address: consoleAddress) }
        router.get("/v1/health") { _, _ in
            let (status, counts) = try await notifier.adminStatus(store: store)
            var relay = RelayStatusView(status, outbox: counts)
            relay.oldestPendingAt = counts.pending > 0 ? try await store.oldestPendingNotificationAt() : nil
            let grants = try await store.oauthGrantSummaries()
            relay.oauth = grants[.relay].map(OAuthGrantView.init)
            var channels = await statusBoard.all().map(ChannelStatusView.init)
            if !grants.isEmpty {
                let ids = Dictionary(
                    try await store.channels().compactMap { row in row.channel.id.map { (row.channel.address, $0) } },
                    uniquingKeysWith: { a, _ in a })
                for index in channels.indices {
                    guard let id = ids[channels[index].address] else { continue }
                    channels[index].oauth = grants[.channel(id)].map(OAuthGrantView.init)
                }
            }
            return HealthView(
                status: "ok", version: PostdeskVersion.current, channels: channels,
                plaintext: try await store.plaintextLinks().map(\.description), relay: relay)
        }
        router.get("/v1/log") { request, _ in
            let channel = request.uri.queryParameters.get("channel")
            let since = request.uri.queryParameters.get("since").flatMap { ISO8601DateFormatter().date(from: $0) }
            let limit = request.uri.queryParameters.get("limit").flatMap { Int($0) } ?? 200
            let outcomes = try request.uri.queryParameters.get("outcome").map { list in
                try Set(
                    list.split(separator: ",").map { name in
                        guard let outcome = InboundOutcome(rawValue: String(name)) else {
                            throw DeskError(.invalid, "unknown outcome \(name)")
                        }
                        return outcome
                    })
            }
            let channels = Dictionary(
                try await store.channels().compactMap { row in row.channel.id.map { ($0, row.channel.address) } },
                uniquingKeysWith: { a, _ in a })
            return try await store.processingLog(
                channelAddress: channel, since: since, outcomes: outcomes, limit: min(limit, 10_000)
            )
            .map {
                LogEntry(
                    time: $0.time, channel: channels[$0.channelId] ?? "?", from: $0.from, subject: $0.subject,
                    outcome: $0.outcome, request: $0.requestKey, detail: $0.detail,
                    notes: $0.notes.map { $0.split(separator: "\n").map(String.init) }, inbound: $0.inboundId,
                    attempts: $0.inboundId == nil ? nil : $0.attempts)
            }
        }
    }
}
