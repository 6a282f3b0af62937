import Foundation

/// What an admin asked to run on a channel from the console.
enum ConsoleRunKind: String, Sendable, CaseIterable {
    case test, verify
}

/// A test or verification an admin started (a form post with the CSRF token), waiting for its event stream.
struct ConsoleRun: Sendable, Equatable {
    var kind: ConsoleRunKind
    var address: String
    var agentId: Int64
    var createdAt: Date
}

/// The started runs, by a random id. A run is handed out once, to the agent who started it, when its event stream
/// opens; it then runs inside that stream, so a run nobody watches never touches a mail server, and a reconnecting
/// browser cannot start it twice. Bounded: runs expire after `lifetime`, and past `capacity` the oldest goes.
actor ConsoleRuns {
    static let lifetime: TimeInterval = 10 * 60
    static let capacity = 100
    private var runs: [String: ConsoleRun] = [:]

    /// Records a run; its id, for the event stream's address.
    func start(_ kind: ConsoleRunKind, address: String, agentId: Int64, now: Date = Date()) -> String {
        runs = runs.filter { now.timeIntervalSince($0.value.createdAt) < Self.lifetime }
        if runs.count >= Self.capacity, let oldest = runs.min(by: { $0.value.createdAt < $1.value.createdAt }) {
            runs[oldest.key] = nil
        }
        let id = ConsoleSessions.randomToken()
        runs[id] = ConsoleRun(kind: kind, address: address, agentId: agentId, createdAt: now)
        return id
    }

    /// The run, once, for the agent who started it; nil when unknown, expired, taken already or someone else's.
    func claim(_ id: String, agentId: Int64, now: Date = Date()) -> ConsoleRun? {
        guard let run = runs[id], run.agentId == agentId, now.timeIntervalSince(run.createdAt) < Self.lifetime
        else { return nil }
        runs[id] = nil
        return run
    }
}
