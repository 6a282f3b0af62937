import Foundation
import PostdeskWire

/// The injected clock, read as time since the notifier started, so that deadlines can be kept as `Duration`s
/// whatever the clock's instant type.
struct NotifierTimeline: Sendable {
    /// Time elapsed on the clock since this timeline was made.
    let now: @Sendable () -> Duration
    /// Sleeps on the clock; throws when cancelled.
    let sleep: @Sendable (Duration) async throws -> Void

    init(_ clock: some Clock<Duration>) {
        let start = clock.now
        now = { start.duration(to: clock.now) }
        sleep = { duration in try await clock.sleep(for: duration) }
    }
}

/// Wakes the notifier's loop: a new notification, or an admin asking to retry the relay at once. Rings that come
/// while the loop is busy coalesce into one wake-up; ringing never waits for the loop.
final class NotifierDoorbell: @unchecked Sendable {
    private let lock = NSLock()
    private var rung = false
    private var retryRelay = false
    private var waiter: CheckedContinuation<Void, Never>?

    /// Wakes the loop; `retryRelay` also asks it to forget the relay's backoff.
    func ring(retryRelay: Bool) {
        let waiter = lock.withLock { () -> CheckedContinuation<Void, Never>? in
            if retryRelay { self.retryRelay = true }
            let waiter = self.waiter
            self.waiter = nil
            // A waiting loop takes this ring now; otherwise it is kept for the next wait.
            rung = waiter == nil
            return waiter
        }
        waiter?.resume()
    }

    /// Whether an admin asked to retry the relay since the last call; clears the request.
    func takeRelayRetry() -> Bool {
        lock.withLock {
            defer { retryRelay = false }
            return retryRelay
        }
    }

    /// Returns at the next ring (at once if one came since the last wait), after `timeout` on `timeline`, or
    /// when the task is cancelled.
    func wait(upTo timeout: Duration, on timeline: NotifierTimeline) async {
        let rungMeanwhile = lock.withLock {
            defer { rung = false }
            return rung
        }
        if rungMeanwhile { return }
        await withTaskGroup(of: Void.self) { group in
            group.addTask { try? await timeline.sleep(timeout) }
            group.addTask { await self.waitForRing() }
            await group.next()
            group.cancelAll()
        }
    }

    private func waitForRing() async {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = lock.withLock { () -> Bool in
                    if rung || Task.isCancelled {
                        rung = false
                        return true
                    }
                    waiter = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            let waiter = lock.withLock { () -> CheckedContinuation<Void, Never>? in
                defer { self.waiter = nil }
                return self.waiter
            }
            waiter?.resume()
        }
    }
}
