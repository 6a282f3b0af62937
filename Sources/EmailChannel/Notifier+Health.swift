import Foundation
import ServiceDesk

extension Notifier {
    /// The relay as an admin sees it (`/v1/health`, the console's relay page): the notifier's own status, or
    /// not-configured while no relay is set (with a diagnosis when notifications wait for one), and the outbox.
    public nonisolated func adminStatus(store: DeskStore) async throws -> (relay: RelayStatus, outbox: OutboxCounts) {
        let counts = try await store.outboxCounts()
        var status = await status()
        if try await store.relay() == nil {
            status.state = .notConfigured
            status.diagnosis = counts.pending > 0 ? .notConfigured : nil
        }
        return (status, counts)
    }
}
