import Foundation

/// Runs CPU-bound work that cannot be cancelled (parsing a hostile mail) on a thread of the global
/// pool, and returns nil once `timeout` passes without a result, so that the caller carries on.
/// The abandoned work finishes on its own; its result is dropped.
enum Watchdog {
    static func run<T: Sendable>(timeout: Duration, _ work: @escaping @Sendable () -> T) async -> T? {
        let once = Once<T?>()
        return await withCheckedContinuation { continuation in
            once.install(continuation)
            DispatchQueue.global(qos: .utility).async {
                once.resume(with: work())
            }
            DispatchQueue.global().asyncAfter(deadline: .now() + timeout.timeInterval) {
                once.resume(with: nil)
            }
        }
    }

    /// A continuation resumed by the first of two racers.
    private final class Once<Value: Sendable>: @unchecked Sendable {
        private let lock = NSLock()
        private var continuation: CheckedContinuation<Value, Never>?

        func install(_ continuation: CheckedContinuation<Value, Never>) {
            lock.withLock { self.continuation = continuation }
        }

        func resume(with value: Value) {
            let taken = lock.withLock { () -> CheckedContinuation<Value, Never>? in
                defer { continuation = nil }
                return continuation
            }
            taken?.resume(returning: value)
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
