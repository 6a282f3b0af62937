import Foundation
import Hummingbird
import PostdeskWire
import PostgresStore
import ServiceDesk

/// What the admin API asks of a desk on several nodes: its nodes and every mailbox's lease, read from the database
/// (so any node answers for the whole desk).
struct ClusterQueries: Sendable {
    let pool: PostgresPool

    func nodes() async throws -> [NodeState] { try await MailboxLeases.nodes(in: pool) }
    func leases() async throws -> [LeaseState] { try await MailboxLeases.leases(in: pool) }
}

/// `/v1/nodes`: the desk's nodes, live and gone, with the mailboxes each holds; on SQLite, one node and no list.
struct NodeRoutes: Sendable {
    let store: DeskStore
    let cluster: ClusterQueries?

    func addRoutes(to router: Router<AdminRequestContext>) {
        router.get("/v1/nodes") { _, _ -> [NodeView] in
            guard let cluster else {
                throw DeskError(
                    .invalid,
                    "this desk is on SQLite: one node runs every mailbox (serve --database puts it on PostgreSQL)")
            }
            let addresses = try await Self.addresses(store)
            return try await cluster.nodes().map { node in
                NodeView(
                    name: node.name, incarnation: node.incarnation, live: node.live, startedAt: node.startedAt,
                    heartbeatAt: node.heartbeatAt, expiresAt: node.expiresAt, stoppedAt: node.stoppedAt,
                    mailboxes: node.channels.map { addresses[$0] ?? "channel \($0)" })
            }
        }
    }

    /// Every channel's address, by id.
    static func addresses(_ store: DeskStore) async throws -> [Int64: String] {
        Dictionary(
            try await store.channels().compactMap { row in row.channel.id.map { ($0, row.channel.address) } },
            uniquingKeysWith: { a, _ in a })
    }
}
