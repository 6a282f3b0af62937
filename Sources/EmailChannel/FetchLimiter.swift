import Foundation
import PostdeskWire

/// Bounds how many mailboxes fetch at the same time, across all of them: a first-come, first-served counting
/// semaphore for tasks, one shared by every MailboxActor of a ChannelSupervisor. A mailbox holds a slot while it
/// searches, fetches, stores and flags, never while it waits in IDLE or between polls, so thousands of idle
/// mailboxes hold none and a backlog in many mailboxes drains through a bounded number of fetch streams (bounded
/// memory, and a mail server that is not flooded with sessions all fetching at once).
public final class FetchLimiter: Sendable {
    /// How many holders at most at one time.
    public let limit: Int
    private let state = LockedState()

    /// A limiter of `limit` slots (at least one).
    public init(limit: Int) {
        self.limit = max(1, limit)
    }

    /// Slots held right now (tests and metrics).
    public var inUse: Int { state.withLock { $0.inUse } }

    /// Tasks waiting for a slot right now.
    public var waiterCount: Int { state.withLock { $0.waiting.count } }

    /// Runs `body` in a slot, waiting first while every slot is taken (in arrival order). Throws
    /// `CancellationError`, without taking a slot, when the task is cancelled while it waits.
    public func withSlot<T>(
        isolation: isolated (any Actor)? = #isolation,
        _ body: () async throws -> T
    ) async throws -> T {
        try await acquire()
        do {
            let result = try await body()
            release()
            return result
        } catch {
            release()
            throw error
        }
    }

    private func acquire() async throws {
        let limit = self.limit
        let ticket: UInt64? = state.withLock { state in
            if state.inUse < limit && state.waiting.isEmpty {
                state.inUse += 1
                return nil
            }
            state.nextTicket += 1
            state.entered.insert(state.nextTicket)
            return state.nextTicket
        }
        guard let ticket else { return }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let now: Result<Void, any Error>? = state.withLock { state in
                    if state.cancelledEarly.remove(ticket) != nil {
                        state.entered.remove(ticket)
                        return .failure(CancellationError())
                    }
                    if state.inUse < limit && state.waiting.isEmpty {
                        state.entered.remove(ticket)
                        state.inUse += 1
                        return .success(())
                    }
                    state.waiting[ticket] = continuation
                    state.order.append(ticket)
                    return nil
                }
                if let now { continuation.resume(with: now) }
            }
        } onCancel: {
            let waiter: CheckedContinuation<Void, any Error>? = state.withLock { state in
                if let waiter = state.waiting.removeValue(forKey: ticket) {
                    state.entered.remove(ticket)
                    return waiter
                }
                // Cancelled before it queued: it must not queue any more. Once granted, nothing to do.
                if state.entered.contains(ticket) { state.cancelledEarly.insert(ticket) }
                return nil
            }
            waiter?.resume(throwing: CancellationError())
        }
    }

    /// Hands the slot to the longest waiter, or frees it.
    private func release() {
        let next: CheckedContinuation<Void, any Error>? = state.withLock { state in
            while let ticket = state.popFirst() {
                if let waiter = state.waiting.removeValue(forKey: ticket) {
                    state.entered.remove(ticket)
                    return waiter
                }
            }
            state.inUse -= 1
            return nil
        }
        next?.resume()
    }

    /// The queue of waiters and the count, behind one lock. Tickets queue in `order`; a ticket whose waiter was
    /// cancelled stays there until it is reached and skipped (each ticket is visited once: linear).
    private struct State {
        var inUse = 0
        var nextTicket: UInt64 = 0
        var waiting: [UInt64: CheckedContinuation<Void, any Error>] = [:]
        var order: [UInt64] = []
        var head = 0
        /// Tickets handed out whose task has not been granted or cancelled yet.
        var entered: Set<UInt64> = []
        /// Tickets cancelled before their waiter queued.
        var cancelledEarly: Set<UInt64> = []

        mutating func popFirst() -> UInt64? {
            guard head < order.count else { return nil }
            let ticket = order[head]
            head += 1
            if head > 1024 && head * 2 > order.count {
                order.removeFirst(head)
                head = 0
            }
            return ticket
        }
    }

    private final class LockedState: @unchecked Sendable {
        private let lock = NSLock()
        private var state = State()

        func withLock<R>(_ body: (inout State) -> R) -> R {
            lock.lock()
            defer { lock.unlock() }
            return body(&state)
        }
    }
}
