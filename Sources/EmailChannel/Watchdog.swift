import Foundation
import PostdeskWire

/// Runs CPU-bound work that cannot be cancelled (parsing a hostile mail) on threads of the global pool, and
/// gives up on any piece still running `timeout` after it started, so that the caller carries on. The abandoned
/// work finishes on its own; its result is dropped.
enum Watchdog {
    /// Runs `work` once, as `map` does a batch of one.
    static func run<T: Sendable>(timeout: Duration, _ work: @escaping @Sendable () -> T) async -> T? {
        await map(count: 1, width: 1, timeout: timeout) { _ in work() }[0]
    }

    /// Runs `work(i)` for every `i` in `0..<count`, on at most `width` threads at once, and returns the answers
    /// in that order; nil for a piece the watchdog gave up on. A given-up piece keeps its thread busy until it
    /// ends, and a fresh thread takes over the pieces after it, so one hostile mail never holds up a batch.
    ///
    /// The threads take the pieces one after another: a batch costs `width` dispatches and one timer, not a task,
    /// two dispatches and a timer per piece (which were half the cost of reading a small mail).
    static func map<T: Sendable>(
        count: Int, width: Int, timeout: Duration, _ work: @escaping @Sendable (Int) -> T
    ) async -> [T?] {
        guard count > 0 else { return [] }
        let batch = Batch<T>(count: count, timeout: timeout)
        return await withCheckedContinuation { continuation in
            batch.start(continuation, width: max(1, min(width, count)), work: work)
        }
    }

    /// One batch's shared state: which piece is next, which are running since when, the answers so far.
    private final class Batch<T: Sendable>: @unchecked Sendable {
        private typealias Finish = (answers: [T?], continuation: CheckedContinuation<[T?], Never>)

        private let lock = NSLock()
        private let count: Int
        private let timeout: Duration
        private var answers: [T?]
        private var settled: [Bool]
        private var settledCount = 0
        private var next = 0
        /// The pieces being worked on, with the time each started.
        private var running: [Int: DispatchTime] = [:]
        /// Whether a check is scheduled (for the earliest running piece, or earlier).
        private var armed = false
        private var continuation: CheckedContinuation<[T?], Never>?
        private var work: (@Sendable (Int) -> T)?

        init(count: Int, timeout: Duration) {
            self.count = count
            self.timeout = timeout
            self.answers = Array(repeating: nil, count: count)
            self.settled = Array(repeating: false, count: count)
        }

        func start(_ continuation: CheckedContinuation<[T?], Never>, width: Int, work: @escaping @Sendable (Int) -> T) {
            lock.withLock {
                self.continuation = continuation
                self.work = work
            }
            for _ in 0..<width { spawnWorker() }
        }

        private func spawnWorker() {
            DispatchQueue.global(qos: .utility).async { self.workLoop() }
        }

        /// Takes pieces until none is left, or until the watchdog has given up on the one this thread ran (a
        /// fresh thread has taken its place by then).
        private func workLoop() {
            while let (piece, work) = take() {
                let answer = work(piece)
                let (recorded, finish) = settle(piece, with: answer)
                if let finish { finish.continuation.resume(returning: finish.answers) }
                guard recorded else { return }
            }
        }

        private func take() -> (Int, @Sendable (Int) -> T)? {
            lock.withLock {
                guard next < count, let work else { return nil }
                let piece = next
                next += 1
                let now = DispatchTime.now()
                running[piece] = now
                // Pieces start in order, so a check already scheduled is due no later than this one.
                if !armed { arm(at: now + timeout.timeInterval) }
                return (piece, work)
            }
        }

        /// Records an answer: whether it was taken (not given up already), and the finish once it was the last.
        private func settle(_ piece: Int, with answer: T) -> (Bool, Finish?) {
            lock.withLock {
                guard !settled[piece] else { return (false, nil) }
                running[piece] = nil
                answers[piece] = answer
                return (true, markSettled(piece))
            }
        }

        /// Marks a piece answered; the finish once every piece is. Call under the lock.
        private func markSettled(_ piece: Int) -> Finish? {
            settled[piece] = true
            settledCount += 1
            guard settledCount == count, let continuation else { return nil }
            let finish = (answers, continuation)
            // Nothing of the batch outlives it here: a check still scheduled finds it empty.
            self.continuation = nil
            self.work = nil
            answers = []
            return finish
        }

        /// Schedules a check. Call under the lock.
        private func arm(at deadline: DispatchTime) {
            armed = true
            DispatchQueue.global().asyncAfter(deadline: deadline) { [weak self] in self?.check() }
        }

        /// Gives up on every piece past its time, starts a thread for each one given up while pieces are left,
        /// and schedules the next check for the earliest piece still running.
        private func check() {
            let now = DispatchTime.now()
            let (replacements, finish): (Int, Finish?) = lock.withLock {
                armed = false
                var finish: Finish?
                var givenUp = 0
                for (piece, started) in running where started + timeout.timeInterval <= now {
                    running[piece] = nil
                    givenUp += 1
                    finish = markSettled(piece) ?? finish
                }
                if let earliest = running.values.min() { arm(at: earliest + timeout.timeInterval) }
                return (next < count ? givenUp : 0, finish)
            }
            for _ in 0..<replacements { spawnWorker() }
            if let finish { finish.continuation.resume(returning: finish.answers) }
        }
    }
}

extension Duration {
    /// Seconds as a TimeInterval.
    var timeInterval: TimeInterval {
        let parts = components
        return TimeInterval(parts.seconds) + TimeInterval(parts.attoseconds) / 1e18
    }
}
