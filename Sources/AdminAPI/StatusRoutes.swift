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
    /// On several nodes, where the leases are: the health lists every mailbox of the desk with its owner.
    var cluster: ClusterQueries? = nil

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
            if let cluster { channels = try await Self.withLeases(channels, cluster: cluster, store: store) }
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
            let channels = try await NodeRoutes.addresses(store)
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

    /// This node's mailboxes with their leases, and every other node's as `stopped` here, naming their owner: what
    /// any node says of the whole desk.
    static func withLeases(_ local: [ChannelStatusView], cluster: ClusterQueries, store: DeskStore) async throws
        -> [ChannelStatusView]
    {
        let addresses = try await NodeRoutes.addresses(store)
        var byAddress = Dictionary(local.map { ($0.address, $0) }, uniquingKeysWith: { a, _ in a })
        for lease in try await cluster.leases() {
            guard let address = addresses[lease.channelID] else { continue }
            var view =
                byAddress[address]
                ?? ChannelStatusView(
                    address: address, state: .stopped,
                    detail: lease.held ? "runs on node \(lease.owner ?? "?")" : "waiting for a node to take its lease",
                    processedToday: 0)
            view.owner = lease.held ? lease.owner : nil
            view.leaseExpiresAt = lease.held ? lease.expiresAt : nil
            view.fencingToken = lease.fencingToken
            byAddress[address] = view
        }
        return byAddress.values.sorted { $0.address < $1.address }
    }
}
